package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// APIUsageFunc returns the Salesforce org's API requests used in the last
// 24 hours and its daily limit, with zeros while unknown, as
// sfclient.Client.APIUsage does.
type APIUsageFunc func() (used, limit int64)

// apiUsage reports the Salesforce API usage of every watched client when
// Prometheus scrapes, so the values are as fresh as the newest response.
var apiUsage = &apiUsageCollector{
	sources: map[int]APIUsageFunc{},
	used: prometheus.NewDesc(namespace+"_salesforce_api_requests_used",
		"Salesforce API requests the org used in the last 24 hours, from the Sforce-Limit-Info header of the newest response.", nil, nil),
	limit: prometheus.NewDesc(namespace+"_salesforce_api_requests_limit",
		"The org's daily Salesforce API request limit, from the Sforce-Limit-Info header of the newest response.", nil, nil),
}

type apiUsageCollector struct {
	mu      sync.Mutex
	next    int
	sources map[int]APIUsageFunc

	used, limit *prometheus.Desc
}

// WatchAPIUsage adds a Salesforce client's usage to the
// sfsap_salesforce_api_requests_used and _limit gauges and returns a
// function that removes it. With several clients the gauges show the
// highest values, which for clients of one org is the newest count. The
// gauges are absent until a client has seen a Sforce-Limit-Info header.
func WatchAPIUsage(f APIUsageFunc) (stop func()) {
	c := apiUsage
	c.mu.Lock()
	id := c.next
	c.next++
	c.sources[id] = f
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.sources, id)
		c.mu.Unlock()
	}
}

// Describe sends the two gauge descriptions.
func (c *apiUsageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.used
	ch <- c.limit
}

// Collect sends the highest usage and limit of the watched clients.
func (c *apiUsageCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	sources := make([]APIUsageFunc, 0, len(c.sources))
	for _, f := range c.sources {
		sources = append(sources, f)
	}
	c.mu.Unlock()

	var used, limit int64
	for _, f := range sources {
		u, l := f()
		used = max(used, u)
		limit = max(limit, l)
	}
	if limit == 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(used))
	ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(limit))
}
