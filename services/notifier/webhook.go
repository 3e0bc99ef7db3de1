package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// maxErrorBody bounds the part of an error response kept in messages.
const maxErrorBody = 512

// webhookSink posts one message per outcome to an incoming webhook.
type webhookSink struct {
	sinkName   string
	url        string
	accountURL string
	http       *http.Client
	payload    func(view) any
}

func newTeams(webhookURL, accountURL string, hc *http.Client) *webhookSink {
	return &webhookSink{sinkName: "teams", url: webhookURL, accountURL: accountURL, http: hc, payload: teamsPayload}
}

func newSlack(webhookURL, accountURL string, hc *http.Client) *webhookSink {
	return &webhookSink{sinkName: "slack", url: webhookURL, accountURL: accountURL, http: hc, payload: slackPayload}
}

func (w *webhookSink) name() string { return w.sinkName }

func (w *webhookSink) send(ctx context.Context, r msg.Result) error {
	body, err := json.Marshal(w.payload(render(r, w.accountURL)))
	if err != nil {
		return &SendError{Sink: w.sinkName, Permanent: true, Err: fmt.Errorf("encoding message: %w", err)}
	}
	return postJSON(ctx, w.http, w.sinkName, w.url, "", body)
}

// postJSON posts body to endpoint and classifies the response. bearer,
// when set, is sent as the Authorization header. Errors never contain
// endpoint, which may hold a credential.
func postJSON(ctx context.Context, hc *http.Client, sink, endpoint, bearer string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return &SendError{Sink: sink, Permanent: true, Err: fmt.Errorf("building request: invalid URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	tracing.InjectHTTP(ctx, req.Header)
	resp, err := hc.Do(req)
	if err != nil {
		return &SendError{Sink: sink, Err: fmt.Errorf("sending request: %w", stripURL(err))}
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return httpError(sink, resp, strings.TrimSpace(string(excerpt)), time.Now())
}

// stripURL returns the cause of a *url.Error without the request URL,
// which the error's text repeats.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// teamsPayload is an Adaptive Card in the message envelope that Teams
// incoming webhooks and Workflows webhooks accept.
func teamsPayload(v view) any {
	color := "Good"
	if v.Failure {
		color = "Attention"
	}
	facts := make([]map[string]string, len(v.Facts))
	for i, f := range v.Facts {
		facts[i] = map[string]string{"title": f.Title, "value": f.Value}
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []any{
			map[string]any{"type": "TextBlock", "text": v.Title, "weight": "Bolder", "size": "Medium", "color": color, "wrap": true},
			map[string]any{"type": "TextBlock", "text": v.Summary, "wrap": true},
			map[string]any{"type": "FactSet", "facts": facts},
		},
	}
	if v.AccountURL != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open the Account", "url": v.AccountURL}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}

// Slack block limits: a header's text, a section's text, a field's text
// and the number of fields in one section.
const (
	slackHeaderMax  = 150
	slackTextMax    = 3000
	slackFieldMax   = 2000
	slackFieldCount = 10
)

// slackPayload is a Block Kit message with a plain-text fallback.
func slackPayload(v view) any {
	var fields []any
	for _, f := range v.Facts {
		if len(fields) == slackFieldCount {
			break
		}
		fields = append(fields, map[string]string{
			"type": "mrkdwn",
			"text": clip("*"+slackEscape(f.Title)+"*\n"+slackEscape(f.Value), slackFieldMax),
		})
	}
	summary := slackEscape(v.Summary)
	if v.AccountURL != "" {
		summary += "\n<" + v.AccountURL + "|Open the Account>"
	}
	return map[string]any{
		"text": clip(v.Title+": "+v.Summary, slackTextMax),
		"blocks": []any{
			map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(v.Title, slackHeaderMax)}},
			map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": clip(summary, slackTextMax)}},
			map[string]any{"type": "section", "fields": fields},
		},
	}
}

// slackEscape escapes the three characters that Slack's mrkdwn treats as
// control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
