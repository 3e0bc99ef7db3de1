// Command notifier sends sync outcomes from the audit trail to Microsoft
// Teams or Slack webhooks, to e-mail recipients over SMTP and to a
// SharePoint Online list, as the notifier section of the configuration
// selects.
package main

import (
	"context"

	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/notifier"
)

func main() {
	setup.Main("notifier", func(ctx context.Context, d setup.Deps) (setup.Runner, error) {
		return notifier.New(ctx, d.Config.Notifier, d.JS, d.Log)
	})
}
