package top

import "sync"

// perNetns holds the sinks of the namespaces that --netns all counts apart
// (For), one a namespace, made and dropped by the threads that count them.
type perNetns[T any] struct {
	mu sync.Mutex
	m  map[uint64]T
}

// add keeps c as the sink of the namespace inode.
func (p *perNetns[T]) add(inode uint64, c T) T {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[uint64]T{}
	}
	p.m[inode] = c
	return c
}

// Drop forgets a namespace that could not be counted to its end.
func (p *perNetns[T]) Drop(inode uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, inode)
}

// each calls fn for each namespace's sink, the counting done.
func (p *perNetns[T]) each(fn func(inode uint64, c T)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for inode, c := range p.m {
		fn(inode, c)
	}
}
