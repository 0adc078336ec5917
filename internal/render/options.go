package render

// Options bound the work one Render call may do.
type Options struct {
	// MaxFileBytes is the largest manifest, values or chart file read; a
	// larger file is refused, naming it, without reading it.
	MaxFileBytes int64
	// MaxTotalBytes is the total input read per render.
	MaxTotalBytes int64
	// MaxObjects is the largest number of objects one render may produce.
	MaxObjects int
	// KubeVersion is the Kubernetes version Helm charts see in
	// .Capabilities.KubeVersion unless the source sets its own.
	KubeVersion string
	// APIVersions are added to Helm's .Capabilities.APIVersions.
	APIVersions []string
}

// DefaultOptions returns the limits used in production.
func DefaultOptions() Options {
	return Options{
		MaxFileBytes:  4 << 20,
		MaxTotalBytes: 64 << 20,
		MaxObjects:    10000,
		KubeVersion:   "v1.37.2",
	}
}

// withDefaults fills zero fields from DefaultOptions, so a partly filled
// Options never means "no limit".
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = d.MaxFileBytes
	}
	if o.MaxTotalBytes <= 0 {
		o.MaxTotalBytes = d.MaxTotalBytes
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = d.MaxObjects
	}
	if o.KubeVersion == "" {
		o.KubeVersion = d.KubeVersion
	}
	return o
}
