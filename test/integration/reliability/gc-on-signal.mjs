// Preloaded into a forwarder under test (with --expose-gc): SIGUSR2 runs a full garbage collection, so the heap
// figure read right after it counts live objects only.
process.on('SIGUSR2', () => globalThis.gc?.());
