// Command healthcheck requests a URL and exits with status 0 when the
// response status is 2xx, and 1 otherwise. Container images built from
// deploy/docker/Dockerfile have no shell or curl, so compose health checks
// run this instead, such as:
//
//	healthcheck http://127.0.0.1:8080/healthz
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if err := check(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

func check(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("want one argument, the URL to check, such as http://127.0.0.1:8080/healthz; got %d", len(args))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", args[0], err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("requesting %s: %w", args[0], err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s returned status %s, want 2xx", args[0], resp.Status)
	}
	return nil
}
