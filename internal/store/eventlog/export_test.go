package eventlog

// SetMinFilterKeys makes the Sink's filters start at n keys, so that a test sees them
// fill up and be built again; it returns what restores the default.
func SetMinFilterKeys(n int) (restore func()) {
	old := minFilterKeys
	minFilterKeys = n
	return func() { minFilterKeys = old }
}

// NewKeyFilter, Add and MayHold expose the filter to its tests.
func NewKeyFilter(capacity int) *keyFilter   { return newKeyFilter(capacity) }
func (f *keyFilter) Add(key string)          { f.add(key) }
func (f *keyFilter) MayHold(key string) bool { return f.mayHold(key) }
func (f *keyFilter) AddBytes(key []byte)     { f.addBytes(key) }
