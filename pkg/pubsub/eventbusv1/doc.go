// Package eventbusv1 holds the Go code generated from
// proto/eventbus/v1/pubsub_api.proto: the messages and the gRPC client and
// server of the Salesforce Pub/Sub API. Do not edit the .pb.go files;
// change the .proto and run go generate, which needs protoc and the
// protoc-gen-go v1.36.12 and protoc-gen-go-grpc v1.6.2 plugins on PATH.
package eventbusv1

//go:generate protoc -I ../../../proto --go_out=../../.. --go_opt=module=github.com/sfsap/sfsap --go-grpc_out=../../.. --go-grpc_opt=module=github.com/sfsap/sfsap eventbus/v1/pubsub_api.proto
