// Reads one duration per line on stdin and prints Go's time.ParseDuration of it in milliseconds, or ERROR: <msg>.
// Tests use it as the oracle for values handed to Go programs (Numaflow's bufferConfig, NATS).
package main

import (
	"bufio"
	"fmt"
	"os"
	"time"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		d, err := time.ParseDuration(in.Text())
		if err != nil {
			fmt.Printf("ERROR: %v\n", err)
			continue
		}
		fmt.Println(d.Milliseconds())
	}
}
