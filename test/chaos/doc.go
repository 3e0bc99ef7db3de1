// Package chaos tests sfsap's core promise under faults: crashes,
// redeliveries, replays, timeouts and restarts never create a second SAP
// customer, and every converted account ends with its SAP number written
// back or in the dead-letter stream with a reason. The tests run the
// services as separate processes, or in one process for single faults,
// against both simulators and a real NATS server.
package chaos
