package infra

import (
	"testing"
)

func TestSmoke(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	for _, r := range d.resources {
		t.Log(r.Type, r.Name)
	}
	t.Log(d.outputs)
}
