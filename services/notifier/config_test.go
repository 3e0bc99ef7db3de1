package notifier_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/services/notifier"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := notifier.Config{
		Teams:      notifier.Webhook{WebhookURL: "https://example.webhook.office.com/webhookb2/x"},
		Email:      notifier.Email{Host: "smtp.example.com", TLS: notifier.TLSImplicit},
		SharePoint: notifier.SharePoint{SiteID: "site", TenantID: "contoso.onmicrosoft.com", Columns: map[string]string{"reason": ""}},
	}.WithDefaults()

	checks := []struct {
		name      string
		got, want any
	}{
		{"notify", c.Notify, notifier.NotifyFailures},
		{"start", c.Start, notifier.StartNew},
		{"max attempts", c.MaxAttempts, 5},
		{"backoff", c.Backoff, 5 * time.Second},
		{"max backoff", c.MaxBackoff, 5 * time.Minute},
		{"teams notify", c.Teams.Notify, notifier.NotifyFailures},
		{"email port for tls", c.Email.Port, 465},
		{"email subject prefix", c.Email.SubjectPrefix, "[sfsap]"},
		{"token URL", c.SharePoint.TokenURL, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"},
		{"graph URL", c.SharePoint.GraphURL, notifier.DefaultGraphURL},
		{"scope", c.SharePoint.Scope, "https://graph.microsoft.com/.default"},
		{"title column", c.SharePoint.Columns["title"], "Title"},
		{"dropped column", c.SharePoint.Columns["reason"], ""},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("WithDefaults: %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if notifier.DefaultColumns["reason"] != "Reason" {
		t.Errorf("WithDefaults changed DefaultColumns: reason = %q", notifier.DefaultColumns["reason"])
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := func() notifier.Config {
		return notifier.Config{
			Teams: notifier.Webhook{WebhookURL: "https://example.webhook.office.com/webhookb2/x"},
			Email: notifier.Email{Host: "smtp.example.com", From: "sfsap@example.com", To: []string{"ops@example.com"}},
			SharePoint: notifier.SharePoint{
				SiteID: "contoso.sharepoint.com,a,b", ListID: "list", TenantID: "contoso",
				ClientID: "id", ClientSecret: "secret",
			},
		}
	}
	tests := []struct {
		name    string
		change  func(*notifier.Config)
		wantErr string
	}{
		{"valid", func(*notifier.Config) {}, ""},
		{"no sink", func(c *notifier.Config) { *c = notifier.Config{} }, ""},
		{"bad notify", func(c *notifier.Config) { c.Notify = "errors" }, `notifier.notify "errors" is invalid`},
		{"bad start", func(c *notifier.Config) { c.Start = "oldest" }, `notifier.start "oldest" is invalid`},
		{"bad sink notify", func(c *notifier.Config) { c.Teams.Notify = "some" }, `notifier.teams.notify "some" is invalid`},
		{"relative webhook", func(c *notifier.Config) { c.Slack.WebhookURL = "hooks.slack.com/services/T/B/secretpart" }, "notifier.slack.webhook_url is not a valid"},
		{"bad account url", func(c *notifier.Config) { c.AccountURL = "example/{id}" }, "notifier.account_url"},
		{"zero attempts", func(c *notifier.Config) { c.MaxAttempts = -1 }, "notifier.max_attempts -1 is invalid"},
		{"backoff over max", func(c *notifier.Config) { c.Backoff, c.MaxBackoff = time.Minute, time.Second }, "max_backoff at least backoff"},
		{"email without from", func(c *notifier.Config) { c.Email.From = "" }, "notifier.email.from"},
		{"email without to", func(c *notifier.Config) { c.Email.To = nil }, "notifier.email.to is empty"},
		{"email bad to", func(c *notifier.Config) { c.Email.To = []string{"not an address"} }, `notifier.email.to entry "not an address"`},
		{"email bad tls", func(c *notifier.Config) { c.Email.TLS = "ssl" }, `notifier.email.tls "ssl" is invalid`},
		{"email bad port", func(c *notifier.Config) { c.Email.Port = 70000 }, "notifier.email.port 70000"},
		{"email user without password", func(c *notifier.Config) { c.Email.Username = "u" }, "notifier.email.password is empty"},
		{"sharepoint without tenant", func(c *notifier.Config) { c.SharePoint.TenantID = "" }, "notifier.sharepoint.tenant_id is empty"},
		{"sharepoint without secret", func(c *notifier.Config) { c.SharePoint.ClientSecret = "" }, "client_id and client_secret are required"},
		{"sharepoint without list", func(c *notifier.Config) { c.SharePoint.ListID = "" }, "notifier.sharepoint.list_id"},
		{"sharepoint bad graph url", func(c *notifier.Config) { c.SharePoint.GraphURL = "graph" }, "notifier.sharepoint.graph_url"},
		{"sharepoint unknown column", func(c *notifier.Config) { c.SharePoint.Columns = map[string]string{"owner": "Owner"} }, `unknown key "owner"`},
		{"sharepoint no title", func(c *notifier.Config) { c.SharePoint.Columns = map[string]string{"title": ""} }, "columns.title is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := valid()
			tt.change(&c)
			err := c.WithDefaults().Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secretpart") {
				t.Errorf("Validate() error %q repeats the webhook URL", err)
			}
		})
	}
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	t.Parallel()
	c := notifier.Config{
		Teams:      notifier.Webhook{WebhookURL: "https://example.webhook.office.com/webhookb2/teams-secret"},
		Slack:      notifier.Webhook{WebhookURL: "https://hooks.slack.com/services/T0/B0/slack-secret"},
		Email:      notifier.Email{Host: "smtp.example.com", Password: "mail-secret"},
		SharePoint: notifier.SharePoint{SiteID: "site", ClientSecret: "graph-secret"},
	}
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("config", "notifier", c)
	out := b.String() + c.String() + fmt.Sprint(c)
	for _, secret := range []string{"teams-secret", "slack-secret", "mail-secret", "graph-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("logged config contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(b.String(), "smtp.example.com") {
		t.Errorf("logged config lacks the SMTP host:\n%s", b.String())
	}
}

func TestConfigLoadsNotifierSection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "sfsap.yaml")
	yaml := `notifier:
  notify: all
  email:
    host: smtp.example.com
    from: sfsap@example.com
    to: [ops@example.com]
  sharepoint:
    site_id: contoso.sharepoint.com,a,b
    list_id: Sync outcomes
    tenant_id: contoso
    client_id: app
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	hookFile := filepath.Join(dir, "teams-url")
	if err := os.WriteFile(hookFile, []byte("https://example.webhook.office.com/webhookb2/from-file\n"), 0o600); err != nil {
		t.Fatalf("writing secret file: %v", err)
	}
	secretFile := filepath.Join(dir, "graph-secret")
	if err := os.WriteFile(secretFile, []byte("graph-secret-from-file"), 0o600); err != nil {
		t.Fatalf("writing secret file: %v", err)
	}
	env := []string{
		"SFSAP_NOTIFIER_TEAMS_WEBHOOK_URL_FILE=" + hookFile,
		"SFSAP_NOTIFIER_SHAREPOINT_CLIENT_SECRET_FILE=" + secretFile,
		"SFSAP_NOTIFIER_EMAIL_TO=ops@example.com, it@example.com",
	}

	c, err := config.Load(file, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	n := c.Notifier
	checks := []struct {
		name      string
		got, want any
	}{
		{"notify", n.Notify, notifier.NotifyAll},
		{"teams webhook from file", n.Teams.WebhookURL, "https://example.webhook.office.com/webhookb2/from-file"},
		{"client secret from file", n.SharePoint.ClientSecret, "graph-secret-from-file"},
		{"recipients from env", strings.Join(n.Email.To, ";"), "ops@example.com;it@example.com"},
		{"list id", n.SharePoint.ListID, "Sync outcomes"},
		{"email port", n.Email.Port, 587},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("Load: %s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !n.Enabled() {
		t.Error("Enabled() = false, want true with three sinks")
	}
}

func TestConfigLoadRejectsInvalidNotifier(t *testing.T) {
	t.Parallel()
	_, err := config.Load("", []string{"SFSAP_NOTIFIER_NOTIFY=sometimes"})
	if err == nil || !strings.Contains(err.Error(), `notifier.notify "sometimes" is invalid`) {
		t.Fatalf("Load = %v, want the notifier.notify error", err)
	}
}
