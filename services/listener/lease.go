package listener

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
)

// LeaseBucket is the key-value bucket of listener leases. Its TTL is the
// lease duration: the server drops a key that was not renewed within it,
// so a standby can take over without trusting the other host's clock.
const LeaseBucket = bus.BucketLeases

// errLeaseLost means this listener no longer holds the lease and must not
// publish.
var errLeaseLost = errors.New("listener: lease lost to another instance")

// lease is one listener's hold on the right to consume a checkpoint's
// events. The key is created by the holder and renewed by revision, so two
// instances never both believe they hold it: a renewal after the key moved
// on fails.
type lease struct {
	kv    jetstream.KeyValue
	key   string
	owner string
	ttl   time.Duration

	mu  sync.Mutex
	rev uint64
	// validUntil is the local time until which the key is certain to
	// exist: the start of the last successful write plus the TTL, less a
	// margin for clock rate differences. The server stamps the write
	// after it was sent, so its expiry is later.
	validUntil time.Time
}

// openLeases opens the lease bucket, which the topology creates with the
// lease TTL. Only when it is missing, as with a hand-made topology, does
// it create the bucket itself.
func openLeases(ctx context.Context, js jetstream.JetStream, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, LeaseBucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("listener: opening bucket %s: %w", LeaseBucket, err)
	}
	kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      LeaseBucket,
		Description: "listener leases: the instance that consumes Salesforce events",
		History:     1,
		TTL:         ttl,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("listener: opening bucket %s: %w", LeaseBucket, err)
	}
	return kv, nil
}

// acquire takes the lease if no instance holds it and reports whether it
// did.
func (l *lease) acquire(ctx context.Context) (bool, error) {
	start := time.Now()
	rev, err := l.kv.Create(ctx, l.key, []byte(l.owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquiring lease %s: %w", l.key, err)
	}
	l.set(rev, start)
	return true, nil
}

// renew extends the lease. It returns errLeaseLost when another instance
// took it or the key expired.
func (l *lease) renew(ctx context.Context) error {
	start := time.Now()
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	newRev, err := l.kv.Update(ctx, l.key, []byte(l.owner), rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound) {
		l.invalidate()
		return fmt.Errorf("%w: renewing %s: %w", errLeaseLost, l.key, err)
	}
	if err != nil {
		return fmt.Errorf("renewing lease %s: %w", l.key, err)
	}
	l.set(newRev, start)
	return nil
}

// valid reports whether the lease is certain to be held now.
func (l *lease) valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.validUntil)
}

// release deletes the key if this instance still holds it, so a standby
// takes over at once.
func (l *lease) release(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	l.invalidate()
	err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("releasing lease %s: %w", l.key, err)
	}
	return nil
}

func (l *lease) set(rev uint64, writeStart time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rev = rev
	l.validUntil = writeStart.Add(l.ttl - l.ttl/5)
}

func (l *lease) invalidate() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.validUntil = time.Time{}
}
