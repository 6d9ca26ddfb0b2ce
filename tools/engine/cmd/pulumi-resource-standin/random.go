package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

var randomInputs = map[string][]string{
	"random:index/randomPassword:RandomPassword": {"keepers", "length", "lower", "minLower", "minNumeric",
		"minSpecial", "minUpper", "number", "numeric", "overrideSpecial", "special", "upper"},
	"random:index/randomString:RandomString": {"keepers", "length", "lower", "minLower", "minNumeric",
		"minSpecial", "minUpper", "number", "numeric", "overrideSpecial", "special", "upper"},
	"random:index/randomId:RandomId":           {"byteLength", "keepers", "prefix"},
	"random:index/randomInteger:RandomInteger": {"keepers", "max", "min", "seed"},
	"random:index/randomUuid:RandomUuid":       {"keepers"},
	"random:index/randomBytes:RandomBytes":     {"keepers", "length"},
	"random:index/randomPet:RandomPet":         {"keepers", "length", "prefix", "separator"},
}

type randomProvider struct{ base }

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	if _, ok := randomInputs[t]; !ok {
		return nil, fmt.Errorf("stand-in random provider: unsupported resource type %q", t)
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	switch t {
	case "random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString",
		"random:index/randomBytes:RandomBytes":
		if v := plain(news["length"]); !v.IsComputed() && (!v.IsNumber() || v.NumberValue() < 1) {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "length", Reason: "length must be a number >= 1"})
		}
	case "random:index/randomId:RandomId":
		if v := plain(news["byteLength"]); !v.IsComputed() && (!v.IsNumber() || v.NumberValue() < 1) {
			failures = append(failures, &pulumirpc.CheckFailure{Property: "byteLength", Reason: "byteLength must be >= 1"})
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
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
	changed := changedKeys(olds, news, randomInputs[t])
	return diffResponse(changed, changed), nil // every random input forces a new value
}

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomText(in resource.PropertyMap) string {
	const lower, upper, digits = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
	special := "!@#$%&*()-_=+[]{}<>:?"
	if o, ok := in["overrideSpecial"]; ok && plain(o).IsString() {
		special = plain(o).StringValue()
	}
	length := int(num(in, "length", 16))
	numeric := boolean(in, "numeric", boolean(in, "number", true))
	type class struct {
		chars string
		on    bool
		min   int
	}
	classes := []class{
		{lower, boolean(in, "lower", true), int(num(in, "minLower", 0))},
		{upper, boolean(in, "upper", true), int(num(in, "minUpper", 0))},
		{digits, numeric, int(num(in, "minNumeric", 0))},
		{special, boolean(in, "special", true), int(num(in, "minSpecial", 0))},
	}
	var out []byte
	all := ""
	for _, c := range classes {
		if !c.on || c.chars == "" {
			continue
		}
		all += c.chars
		for i := 0; i < c.min; i++ {
			out = append(out, c.chars[randInt(int64(len(c.chars)))])
		}
	}
	if all == "" {
		all = lower
	}
	for len(out) < length {
		out = append(out, all[randInt(int64(len(all)))])
	}
	for i := len(out) - 1; i > 0; i-- { // shuffle so the minimums are not at the front
		j := randInt(int64(i + 1))
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

var petWords = []string{"able", "brave", "calm", "eager", "fond", "keen", "lucid", "noble", "quick", "tidy",
	"otter", "heron", "lynx", "marten", "ibis", "wren", "bison", "tapir", "civet", "koala"}

func (p *randomProvider) generate(t string, in resource.PropertyMap) (string, resource.PropertyMap) {
	out := in.Copy()
	switch t {
	case "random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString":
		r := randomText(in)
		out["result"] = resource.NewStringProperty(r)
		if t == "random:index/randomPassword:RandomPassword" {
			return "none", out
		}
		return r, out
	case "random:index/randomId:RandomId":
		b := randomBytes(int(num(in, "byteLength", 8)))
		prefix := str(in, "prefix")
		out["hex"] = resource.NewStringProperty(prefix + hex.EncodeToString(b))
		out["b64Std"] = resource.NewStringProperty(prefix + base64.StdEncoding.EncodeToString(b))
		out["b64Url"] = resource.NewStringProperty(prefix + base64.RawURLEncoding.EncodeToString(b))
		out["dec"] = resource.NewStringProperty(prefix + new(big.Int).SetBytes(b).String())
		id := base64.RawURLEncoding.EncodeToString(b)
		return id, out
	case "random:index/randomInteger:RandomInteger":
		lo, hi := int64(num(in, "min", 0)), int64(num(in, "max", 0))
		v := lo
		if hi > lo {
			v = lo + randInt(hi-lo+1)
		}
		out["result"] = resource.NewNumberProperty(float64(v))
		return strconv.FormatInt(v, 10), out
	case "random:index/randomUuid:RandomUuid":
		b := randomBytes(16)
		b[6] = (b[6] & 0x0f) | 0x40
		b[8] = (b[8] & 0x3f) | 0x80
		u := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		out["result"] = resource.NewStringProperty(u)
		return u, out
	case "random:index/randomBytes:RandomBytes":
		b := randomBytes(int(num(in, "length", 16)))
		out["base64"] = resource.NewStringProperty(base64.StdEncoding.EncodeToString(b))
		out["hex"] = resource.NewStringProperty(hex.EncodeToString(b))
		return "none", out
	default: // RandomPet
		n := int(num(in, "length", 2))
		sep := "-"
		if s, ok := in["separator"]; ok && plain(s).IsString() {
			sep = plain(s).StringValue()
		}
		words := []string{}
		if pre := str(in, "prefix"); pre != "" {
			words = append(words, pre)
		}
		for i := 0; i < n; i++ {
			words = append(words, petWords[randInt(int64(len(petWords)))])
		}
		r := strings.Join(words, sep)
		return r, out
	}
}

var randomComputed = map[string][]string{
	"random:index/randomPassword:RandomPassword": {"result"},
	"random:index/randomString:RandomString":     {"result"},
	"random:index/randomId:RandomId":             {"hex", "b64Std", "b64Url", "dec"},
	"random:index/randomInteger:RandomInteger":   {"result"},
	"random:index/randomUuid:RandomUuid":         {"result"},
	"random:index/randomBytes:RandomBytes":       {"base64", "hex"},
	"random:index/randomPet:RandomPet":           {},
}

func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t := typeOf(req.GetUrn(), req.GetType())
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		out := in.Copy()
		for _, k := range randomComputed[t] {
			out[resource.PropertyKey(k)] = resource.MakeComputed(resource.NewStringProperty(""))
		}
		props, err := marshal(out)
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	id, out := p.generate(t, in)
	props, err := marshal(out)
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	// Every input change replaces, so an update can only carry unchanged values: keep the old state.
	return &pulumirpc.UpdateResponse{Properties: req.GetOlds()}, nil
}

func (p *randomProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
