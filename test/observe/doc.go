// Package observe runs the whole pipeline against both simulators and
// checks what operators see of it: trace context on every NATS hop, logs
// free of secrets and personal data, and notifications of the outcomes.
// The metrics test is in the metrics folder, because the default
// Prometheus registry needs a process with one pipeline in it.
package observe
