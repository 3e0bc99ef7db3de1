package chaos

import (
	"os"
	"testing"

	"github.com/sfsap/sfsap/test/natstest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	natstest.RemoveBuilds()
	removeServiceBuilds()
	os.Exit(code)
}
