// Package eventbusv1 holds the Go code generated from
// proto/eventbus/v1/pubsub_api.proto: the messages and the gRPC client and
// server of the Salesforce Pub/Sub API. Do not edit the .pb.go files.
// Change the .proto and run go generate instead. It needs protoc (3.21.12
// was used) and the plugins protoc-gen-go v1.36.12 and protoc-gen-go-grpc
// v1.6.2 on PATH.
package eventbusv1

//go:generate protoc -I ../../../proto --go_out=../../.. --go_opt=module=github.com/sfsap/sfsap --go-grpc_out=../../.. --go-grpc_opt=module=github.com/sfsap/sfsap eventbus/v1/pubsub_api.proto
