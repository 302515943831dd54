package checkpoint

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// MemoryClient is a storage.Client that keeps values in memory, for a
// receiver configured without a storage extension: checkpoints then last
// as long as the process.
type MemoryClient struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ storage.Client = (*MemoryClient)(nil)

// NewMemoryClient returns an empty MemoryClient.
func NewMemoryClient() *MemoryClient { return &MemoryClient{m: map[string][]byte{}} }

// Get returns a copy of the value under key, or nil.
func (c *MemoryClient) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return clone(c.m[key]), nil
}

// Set keeps a copy of value under key.
func (c *MemoryClient) Set(_ context.Context, key string, value []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = clone(value)
	return nil
}

// Delete removes key.
func (c *MemoryClient) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// Batch applies ops in order, all under one lock.
func (c *MemoryClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = clone(c.m[op.Key])
		case storage.Set:
			c.m[op.Key] = clone(op.Value)
		case storage.Delete:
			delete(c.m, op.Key)
		default:
			return errors.New("unknown storage operation")
		}
	}
	return nil
}

// Close does nothing: the values stay for the life of the client.
func (c *MemoryClient) Close(context.Context) error { return nil }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
