package function

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// moduleRoot is the repository's module directory, one above this package.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// copyModule copies the parts of the module the handler builds from (go.mod,
// go.sum, the function tree and the patched modules go.mod replaces) to dst,
// stamping every file with mtime.
func copyModule(t *testing.T, dst string, mtime time.Time) {
	t.Helper()
	root := moduleRoot(t)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		copyFile(t, filepath.Join(root, name), filepath.Join(dst, name), mtime)
	}
	for _, tree := range []string{"function", "third_party"} {
		copyTree(t, root, tree, dst, mtime)
	}
}

// copyTree copies root/tree to dst/tree, leaving out hidden directories
// and test data.
func copyTree(t *testing.T, root, tree, dst string, mtime time.Time) {
	t.Helper()
	src := filepath.Join(root, tree)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		copyFile(t, path, filepath.Join(dst, rel), mtime)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string, mtime time.Time) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dst, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestBuildIsReproducibleAcrossCheckouts(t *testing.T) {
	// Two checkouts at paths of different lengths, with different file
	// times, built in different time zones: the zips must be the same bytes.
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "a", "much", "deeper", "checkout")
	copyModule(t, a, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))
	copyModule(t, b, time.Now())

	artA, err := Build(context.Background(), Options{Dir: a, OutDir: filepath.Join(a, "out")})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TZ", "Pacific/Kiritimati")
	artB, err := Build(context.Background(), Options{Dir: b, OutDir: filepath.Join(b, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if artA.SHA256 != artB.SHA256 {
		t.Errorf("SHA-256 differs between checkouts: %s vs %s", artA.SHA256, artB.SHA256)
	}
	bytesA, _ := os.ReadFile(artA.Path)
	bytesB, _ := os.ReadFile(artB.Path)
	if !bytes.Equal(bytesA, bytesB) {
		t.Errorf("zip bytes differ between checkouts (%d vs %d bytes)", len(bytesA), len(bytesB))
	}
	if artA.Size != int64(len(bytesA)) {
		t.Errorf("Size = %d, file has %d bytes", artA.Size, len(bytesA))
	}
}

func TestBuildZipHoldsOneExecutableBootstrap(t *testing.T) {
	for _, tc := range []struct {
		arch    Arch
		machine elf.Machine
	}{
		{ARM64, elf.EM_AARCH64},
		{AMD64, elf.EM_X86_64},
	} {
		t.Run(string(tc.arch), func(t *testing.T) {
			art, err := Build(context.Background(), Options{OutDir: t.TempDir(), Arch: tc.arch})
			if err != nil {
				t.Fatal(err)
			}
			if art.Arch != tc.arch {
				t.Errorf("Arch = %q, want %q", art.Arch, tc.arch)
			}
			if got, want := filepath.Base(art.Path), "bootstrap-"+string(tc.arch)+".zip"; got != want {
				t.Errorf("zip name = %q, want %q", got, want)
			}
			zr, err := zip.OpenReader(art.Path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := zr.Close(); err != nil {
					t.Error(err)
				}
			})
			if len(zr.File) != 1 {
				t.Fatalf("zip has %d entries, want 1", len(zr.File))
			}
			f := zr.File[0]
			if f.Name != "bootstrap" {
				t.Errorf("entry name = %q, want bootstrap", f.Name)
			}
			if mode := f.Mode(); mode != 0o755 {
				t.Errorf("entry mode = %v, want -rwxr-xr-x", mode)
			}
			if !f.Modified.Equal(zipEpoch) {
				t.Errorf("entry time = %v, want %v", f.Modified, zipEpoch)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			exe, err := io.ReadAll(rc)
			if err := errors.Join(err, rc.Close()); err != nil {
				t.Fatal(err)
			}
			ef, err := elf.NewFile(bytes.NewReader(exe))
			if err != nil {
				t.Fatalf("bootstrap is not an ELF: %v", err)
			}
			if ef.Machine != tc.machine {
				t.Errorf("ELF machine = %v, want %v", ef.Machine, tc.machine)
			}
			if ef.Type != elf.ET_EXEC {
				t.Errorf("ELF type = %v, want a static executable", ef.Type)
			}
			if s := ef.Section(".symtab"); s != nil {
				t.Error("bootstrap keeps its symbol table; want it stripped")
			}
		})
	}
}

func TestBuildCompileErrorLeavesNoZip(t *testing.T) {
	mod := t.TempDir()
	write(t, filepath.Join(mod, "go.mod"), "module broken\n\ngo 1.24\n")
	write(t, filepath.Join(mod, "main.go"), "package main\n\nfunc main() { undefinedThing() }\n")
	out := t.TempDir()
	stale := filepath.Join(out, "bootstrap-arm64.zip")
	write(t, stale, "an earlier build")

	_, err := Build(context.Background(), Options{Dir: mod, Package: ".", OutDir: out})
	if err == nil {
		t.Fatal("Build succeeded on a source that does not compile")
	}
	if !strings.Contains(err.Error(), "undefined: undefinedThing") {
		t.Errorf("error does not carry the compiler's message: %v", err)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		t.Errorf("left behind in the output directory: %s", e.Name())
	}
}

func TestBuildWithoutToolchain(t *testing.T) {
	_, err := Build(context.Background(), Options{OutDir: t.TempDir(), Go: "no-such-go-toolchain"})
	if !errors.Is(err, ErrNoToolchain) {
		t.Fatalf("err = %v, want ErrNoToolchain", err)
	}
	if !strings.Contains(err.Error(), "install Go") {
		t.Errorf("error does not say how to get a toolchain: %v", err)
	}
}

func TestBuildRejectsBadOptions(t *testing.T) {
	if _, err := Build(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "output directory") {
		t.Errorf("no OutDir: err = %v, want it to name the output directory", err)
	}
	if _, err := Build(context.Background(), Options{OutDir: t.TempDir(), Arch: "mips"}); err == nil || !strings.Contains(err.Error(), "mips") {
		t.Errorf("bad Arch: err = %v, want it to name the architecture", err)
	}
}

func TestParseArch(t *testing.T) {
	for in, want := range map[string]Arch{"arm64": ARM64, "x86_64": AMD64, "amd64": AMD64} {
		if got, err := ParseArch(in); err != nil || got != want {
			t.Errorf("ParseArch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseArch("386"); err == nil {
		t.Error("ParseArch(386) succeeded")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRebuild measures a build with nothing changed and the Go build
// cache warm: the cost every `pulumi up` and `pulumi preview` pays.
func BenchmarkRebuild(b *testing.B) {
	out := b.TempDir()
	if _, err := Build(context.Background(), Options{OutDir: out}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), Options{OutDir: out}); err != nil {
			b.Fatal(err)
		}
	}
}
