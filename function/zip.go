package function

import (
	"archive/zip"
	"compress/flate"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"time"
)

// zipEpoch is the timestamp of every zip entry: the earliest time the zip
// format can hold, so the build time never reaches the artifact.
var zipEpoch = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// writeZip writes a zip at path holding exe as bootstrap, mode 0755, and
// returns the zip's SHA-256 and size. Every header field is fixed, so the
// bytes depend on the executable alone.
func writeZip(path, exe string) (sum []byte, size int64, err error) {
	src, err := os.Open(exe) //nolint:gosec // G304: the executable this build just compiled
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = src.Close() }() // read only: closing cannot lose data

	// 0644: the zip is read by the Pulumi engine, which may run as another user.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644) //nolint:gosec // G302: see above
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	h := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(f, h)}
	zw := zip.NewWriter(counter)
	// Level 6: within 1% of the best compression at well under half its
	// time, which every `pulumi up` pays.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.DefaultCompression)
	})
	hdr := &zip.FileHeader{
		Name:     "bootstrap",
		Method:   zip.Deflate,
		Modified: zipEpoch,
	}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(w, src); err != nil {
		return nil, 0, fmt.Errorf("copy %s: %w", exe, err)
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return h.Sum(nil), counter.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
