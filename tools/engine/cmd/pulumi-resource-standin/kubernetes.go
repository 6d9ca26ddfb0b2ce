package main

import (
	"context"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// kubernetesProvider is a PREVIEW-ONLY stand-in: it accepts provider configuration and plans resources by echoing
// their inputs (so the engine, the program's graph and the policy pack can run), and refuses to create, update or
// delete anything outside a preview. There is no Kubernetes API in the engine tier.
type kubernetesProvider struct{ base }

var errK8sPreviewOnly = status.Error(codes.Unimplemented,
	"the stand-in kubernetes provider is preview-only (the real provider is not buildable here; see tools/engine/README.md)")

func (p *kubernetesProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *kubernetesProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range olds {
		keys[string(k)] = true
	}
	for k := range news {
		keys[string(k)] = true
	}
	all := make([]string, 0, len(keys))
	for k := range keys {
		all = append(all, k)
	}
	sort.Strings(all)
	return diffResponse(changedKeys(olds, news, all), nil), nil
}

func (p *kubernetesProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !req.GetPreview() {
		return nil, errK8sPreviewOnly
	}
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	out := in.Copy()
	if _, ok := out["status"]; !ok {
		out["status"] = resource.MakeComputed(resource.NewStringProperty(""))
	}
	props, err := marshal(out)
	return &pulumirpc.CreateResponse{Properties: props}, err
}

func (p *kubernetesProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		return nil, errK8sPreviewOnly
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

func (p *kubernetesProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, errK8sPreviewOnly
}

func (p *kubernetesProvider) Construct(_ context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return nil, status.Error(codes.Unimplemented, fmt.Sprintf(
		"the stand-in kubernetes provider cannot construct component %s (charts/yaml components need the real provider)", req.GetType()))
}

func (p *kubernetesProvider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, status.Error(codes.Unimplemented, fmt.Sprintf(
		"the stand-in kubernetes provider cannot invoke %s", req.GetTok()))
}
