package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	typeLocal  = "command:local:Command"
	typeRemote = "command:remote:Command"
	typeCopy   = "command:remote:CopyToRemote"
)

var commandInputs = map[string][]string{
	typeLocal: {"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir", "environment",
		"interpreter", "logging", "stdin", "triggers", "update"},
	typeRemote: {"addPreviousOutputInEnv", "connection", "create", "delete", "environment", "logging", "stdin",
		"triggers", "update"},
	typeCopy: {"connection", "remotePath", "source", "triggers"},
}

type commandProvider struct{ base }

func typeOf(urn, typ string) string {
	if typ != "" {
		return typ
	}
	return string(resource.URN(urn).Type())
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	if _, ok := commandInputs[t]; !ok {
		return nil, fmt.Errorf("stand-in command provider: unsupported resource type %q", t)
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	if t == typeRemote || t == typeCopy {
		conn := plain(news["connection"])
		if conn.IsObject() {
			if h := plain(conn.ObjectValue()["host"]); h.IsNull() {
				failures = append(failures, &pulumirpc.CheckFailure{Property: "connection.host", Reason: "missing required property 'host'"})
			}
		} else if !conn.ContainsUnknowns() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "connection", Reason: "missing required property 'connection'"})
		}
	}
	if t == typeCopy {
		if news["source"].IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "source", Reason: "missing required property 'source'"})
		}
		if news["remotePath"].IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "remotePath", Reason: "missing required property 'remotePath'"})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	changed := changedKeys(olds, news, commandInputs[t])
	var replaces []string
	for _, k := range changed {
		// triggers always replace; CopyToRemote re-copies on any change, like upstream.
		if k == "triggers" || t == typeCopy {
			replaces = append(replaces, k)
		}
	}
	return diffResponse(changed, replaces), nil
}

func anySecret(m resource.PropertyMap) bool {
	for _, v := range m {
		if v.ContainsSecrets() {
			return true
		}
	}
	return false
}

// outputs echoes the inputs and adds stdout/stderr; outputs are secret when any input is (as upstream does).
func outputs(inputs resource.PropertyMap, stdout, stderr *string) resource.PropertyMap {
	out := inputs.Copy()
	wrap := func(v resource.PropertyValue) resource.PropertyValue {
		if anySecret(inputs) {
			return resource.MakeSecret(v)
		}
		return v
	}
	if stdout == nil {
		out["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
		out["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
	} else {
		out["stdout"] = wrap(resource.NewStringProperty(*stdout))
		out["stderr"] = wrap(resource.NewStringProperty(*stderr))
	}
	return out
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id := resource.URN(req.GetUrn()).Name() + strconv.FormatInt(time.Now().UnixNano()%1e6, 36)
	if req.GetPreview() {
		props, err := marshal(outputsFor(t, inputs, nil, nil))
		return &pulumirpc.CreateResponse{Id: "", Properties: props}, err
	}
	var so, se string
	switch t {
	case typeCopy:
		err = copyToRemote(ctx, inputs)
	default:
		so, se, err = p.run(ctx, t, inputs, str(inputs, "create"), nil)
	}
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputsFor(t, inputs, &so, &se))
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

func outputsFor(t string, inputs resource.PropertyMap, so, se *string) resource.PropertyMap {
	if t == typeCopy {
		return inputs.Copy()
	}
	return outputs(inputs, so, se)
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(outputsFor(t, news, nil, nil))
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	if t == typeCopy {
		if err := copyToRemote(ctx, news); err != nil {
			return nil, err
		}
		props, err := marshal(news.Copy())
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	cmd := str(news, "update")
	if cmd == "" {
		cmd = str(news, "create") // upstream: without `update`, `create` runs again
	}
	so, se, err := p.run(ctx, t, news, cmd, olds)
	if err != nil {
		return nil, err
	}
	props, err := marshal(outputs(news, &so, &se))
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	if t == typeCopy {
		return &emptypb.Empty{}, nil // upstream leaves copied files in place
	}
	olds, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if cmd := str(olds, "delete"); cmd != "" {
		if _, _, err := p.run(ctx, t, olds, cmd, olds); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

// run executes one command locally or over SSH. prev (may be nil) provides PULUMI_COMMAND_STDOUT/STDERR.
func (p *commandProvider) run(
	ctx context.Context, t string, in resource.PropertyMap, command string, prev resource.PropertyMap,
) (string, string, error) {
	if command == "" {
		return "", "", nil
	}
	env := strMap(in, "environment")
	if prev != nil && boolean(in, "addPreviousOutputInEnv", true) {
		env["PULUMI_COMMAND_STDOUT"] = str(prev, "stdout")
		env["PULUMI_COMMAND_STDERR"] = str(prev, "stderr")
	}
	stdin := str(in, "stdin")
	var stdout, stderr bytes.Buffer
	var err error
	if t == typeLocal {
		interp := strList(in, "interpreter")
		if len(interp) == 0 {
			interp = []string{"/bin/sh", "-c"}
		}
		c := exec.CommandContext(ctx, interp[0], append(interp[1:], command)...) // #nosec G204 -- program-defined
		c.Dir = str(in, "dir")
		c.Env = os.Environ()
		for k, v := range env {
			c.Env = append(c.Env, k+"="+v)
		}
		if stdin != "" {
			c.Stdin = strings.NewReader(stdin)
		}
		c.Stdout, c.Stderr = &stdout, &stderr
		err = c.Run()
	} else {
		err = remoteRun(ctx, in, command, env, stdin, &stdout, &stderr)
	}
	so := strings.TrimSuffix(stdout.String(), "\n")
	se := strings.TrimSuffix(stderr.String(), "\n")
	if err != nil {
		return so, se, fmt.Errorf("%w: running %q:\nstdout: %s\nstderr: %s", err, command, tail(so), tail(se))
	}
	return so, se, nil
}

func tail(s string) string {
	const max = 4000
	if len(s) > max {
		return "…" + s[len(s)-max:]
	}
	return s
}

func dial(ctx context.Context, in resource.PropertyMap) (*ssh.Client, error) {
	connV := plain(in["connection"])
	if !connV.IsObject() {
		return nil, fmt.Errorf("connection is not an object")
	}
	return dialConn(ctx, connV.ObjectValue(), nil)
}

// dialConn connects to conn's host, through `via` (an established proxy/bastion client) when not nil.
// A `proxy` object in conn is dialled first, like upstream's connection.proxy.
func dialConn(ctx context.Context, conn resource.PropertyMap, via *ssh.Client) (*ssh.Client, error) {
	if proxyV := plain(conn["proxy"]); proxyV.IsObject() && via == nil {
		bastion, err := dialConn(ctx, proxyV.ObjectValue(), nil)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		return dialConn(ctx, conn, bastion)
	}
	host := str(conn, "host")
	port := int(num(conn, "port", 22))
	user := str(conn, "user")
	if user == "" {
		user = "root"
	}
	var auth []ssh.AuthMethod
	if key := str(conn, "privateKey"); key != "" {
		var signer ssh.Signer
		var err error
		if pass := str(conn, "privateKeyPassword"); pass != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(key))
		}
		if err != nil {
			return nil, fmt.Errorf("parsing connection.privateKey: %w", err)
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if pw := str(conn, "password"); pw != "" {
		auth = append(auth, ssh.Password(pw))
	}
	timeout := time.Duration(num(conn, "perDialTimeout", 15)) * time.Second
	limit := int(num(conn, "dialErrorLimit", 10))
	// Like upstream: the host key is checked when connection.hostKey is given, ignored otherwise.
	hostKeyCallback := ssh.InsecureIgnoreHostKey() // #nosec G106 -- upstream behaviour without hostKey
	if hk := str(conn, "hostKey"); hk != "" {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
		if err != nil {
			return nil, fmt.Errorf("parsing connection.hostKey: %w", err)
		}
		hostKeyCallback = ssh.FixedHostKey(pub)
	}
	cfg := &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: hostKeyCallback, Timeout: timeout}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lastErr error
	for attempt := 1; limit < 0 || attempt <= limit; attempt++ {
		var client *ssh.Client
		var err error
		if via == nil {
			client, err = ssh.Dial("tcp", addr, cfg)
		} else {
			var nc net.Conn
			if nc, err = via.Dial("tcp", addr); err == nil {
				var c ssh.Conn
				var chans <-chan ssh.NewChannel
				var reqs <-chan *ssh.Request
				if c, chans, reqs, err = ssh.NewClientConn(nc, addr, cfg); err == nil {
					client = ssh.NewClient(c, chans, reqs)
				}
			}
		}
		if err == nil {
			return client, nil
		}
		if strings.Contains(err.Error(), "host key mismatch") || strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("dialing %s as %s: %w", addr, user, err) // retrying cannot help
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("dialing %s as %s: %w", addr, user, lastErr)
}

func remoteRun(
	ctx context.Context, in resource.PropertyMap, command string, env map[string]string, stdin string,
	stdout, stderr io.Writer,
) error {
	client, err := dial(ctx, in)
	if err != nil {
		return err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := session.Setenv(k, env[k]); err != nil {
			return fmt.Errorf("setting %s on the remote session failed (the SSH server must AcceptEnv it): %w", k, err)
		}
	}
	if stdin != "" {
		session.Stdin = strings.NewReader(stdin)
	}
	session.Stdout, session.Stderr = stdout, stderr
	return session.Run(command)
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func copyToRemote(ctx context.Context, in resource.PropertyMap) error {
	remotePath := str(in, "remotePath")
	src := plain(in["source"])
	var payload []byte
	var command string
	switch {
	case src.IsAsset():
		a := src.AssetValue()
		var err error
		switch {
		case a.IsText():
			payload = []byte(a.Text)
		case a.IsPath():
			payload, err = os.ReadFile(a.Path)
		default:
			err = fmt.Errorf("remote assets (URIs) are not supported by the stand-in")
		}
		if err != nil {
			return err
		}
		command = fmt.Sprintf("mkdir -p %s && cat > %s", shellQuote(path.Dir(remotePath)), shellQuote(remotePath))
	case src.IsArchive():
		a := src.ArchiveValue()
		if !a.IsPath() {
			return fmt.Errorf("only path archives are supported by the stand-in")
		}
		var err error
		payload, err = tarPath(a.Path)
		if err != nil {
			return err
		}
		command = fmt.Sprintf("mkdir -p %s && tar -x -C %s", shellQuote(remotePath), shellQuote(remotePath))
	default:
		return fmt.Errorf("source must be an asset or an archive")
	}
	var se bytes.Buffer
	client, err := dial(ctx, in)
	if err != nil {
		return err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	session.Stdin = bytes.NewReader(payload)
	session.Stderr = &se
	if err := session.Run(command); err != nil {
		return fmt.Errorf("copying to %s: %w: %s", remotePath, err, se.String())
	}
	return nil
}

// tarPath packs a file or directory tree (contents of the directory, not the directory itself).
func tarPath(root string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	add := func(p string, fi os.FileInfo, name string) error {
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = name
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p) // #nosec G304 -- program-defined archive path
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	}
	if !info.IsDir() {
		if err := add(root, info, filepath.Base(root)); err != nil {
			return nil, err
		}
	} else if err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return add(p, fi, filepath.ToSlash(rel))
	}); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
