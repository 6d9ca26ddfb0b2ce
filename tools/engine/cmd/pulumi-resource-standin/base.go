package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// base holds what both personalities share: plugin info, provider configuration, property (un)marshalling.
type base struct {
	pulumirpc.UnimplementedResourceProviderServer
	name    string
	version string
	host    *provider.HostClient
}

func (b *base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: b.version}, nil
}

func (b *base) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{
		Schema: fmt.Sprintf(`{"name":%q,"version":%q,"description":"charon engine-tier stand-in"}`, b.name, b.version),
	}, nil
}

func (b *base) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (b *base) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (b *base) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (b *base) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (b *base) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// State is authoritative for both personalities: nothing can drift that we could observe cheaply.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

// plain strips a top-level secret wrapper.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func str(m resource.PropertyMap, key string) string {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func num(m resource.PropertyMap, key string, def float64) float64 {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsNumber() {
		return v.NumberValue()
	}
	return def
}

func boolean(m resource.PropertyMap, key string, def bool) bool {
	v := plain(m[resource.PropertyKey(key)])
	if v.IsBool() {
		return v.BoolValue()
	}
	return def
}

func strMap(m resource.PropertyMap, key string) map[string]string {
	out := map[string]string{}
	v := plain(m[resource.PropertyKey(key)])
	if !v.IsObject() {
		return out
	}
	for k, e := range v.ObjectValue() {
		e = plain(e)
		if e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out
}

func strList(m resource.PropertyMap, key string) []string {
	var out []string
	v := plain(m[resource.PropertyKey(key)])
	if !v.IsArray() {
		return nil
	}
	for _, e := range v.ArrayValue() {
		e = plain(e)
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// changedKeys lists the input keys whose values differ between olds and news.
func changedKeys(olds, news resource.PropertyMap, inputs []string) []string {
	var changed []string
	for _, k := range inputs {
		key := resource.PropertyKey(k)
		o, hasO := olds[key]
		n, hasN := news[key]
		if hasO != hasN {
			if (hasO && !o.IsNull()) || (hasN && !n.IsNull()) {
				changed = append(changed, k)
			}
			continue
		}
		if !hasO {
			continue
		}
		if n.ContainsUnknowns() || !plain(o).DeepEquals(plain(n)) {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	return changed
}

func diffResponse(changed, replaces []string) *pulumirpc.DiffResponse {
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	isReplace := map[string]bool{}
	for _, r := range replaces {
		isReplace[r] = true
	}
	for _, k := range changed {
		kind := pulumirpc.PropertyDiff_UPDATE
		if isReplace[k] {
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		}
		detailed[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_SOME,
		Diffs:           changed,
		Replaces:        replaces,
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}
}
