package sfclient

import (
	"context"
	"fmt"
	"net/http"
)

// OrgID returns the id of the org the session belongs to, from the OAuth
// userinfo endpoint of the instance. The Pub/Sub API needs it as tenant id.
func (c *Client) OrgID(ctx context.Context) (string, error) {
	var info struct {
		OrganizationID string `json:"organization_id"`
	}
	if err := c.do(ctx, http.MethodGet, "/services/oauth2/userinfo", nil, &info); err != nil {
		return "", fmt.Errorf("reading the session's org: %w", err)
	}
	if info.OrganizationID == "" {
		return "", fmt.Errorf("reading the session's org: the userinfo response has no organization_id; set salesforce.tenant_id")
	}
	return info.OrganizationID, nil
}
