package infra

import (
	"fmt"
	"sort"
)

// alarm is one CloudWatch alarm of the stage, as plain data: every
// dimension is a name the stack gives, so the alarm, the dashboard and the
// tests are built from the same values.
type alarm struct {
	ID          string // the alarm's name after the stage's prefix
	Description string
	Namespace   string
	Metric      string
	Dimensions  map[string]string
	// Statistic is Sum, Average, Minimum or Maximum, or a percentile such
	// as p99.
	Statistic         string
	Period            int // seconds
	EvaluationPeriods int
	Threshold         float64
	Comparison        string
	// MissingData is what a period without data counts as: notBreaching
	// for everything that only reports when something happens (a quiet
	// stage is not in alarm), breaching where silence is the failure.
	MissingData string
	// RateOf, when set, makes the alarm 100 × Metric / RateOf, both sums:
	// a percentage of requests.
	RateOf string
}

// metricsNamespace is where a stage's own metrics go: the digest
// function's (function/bootstrap's MetricsNamespace) and those its
// metric filters count.
func metricsNamespace(stage string) string { return "Licences/" + stage }

// The stage's own metrics, counted from logs by metric filters or
// published by the digest function.
const (
	metricAPIThrottled      = "ApiThrottled"
	metricServerErrors      = "ServerErrors"
	metricLedgerUnavailable = "LedgerUnavailable"
	metricLedgerVerified    = "LedgerVerified"
)

// metricFilter counts log events of a log group into a metric.
type metricFilter struct {
	ID       string
	LogGroup string
	Pattern  string
	Metric   string
}

// metricFilters are the stage's metric filters: throttled requests from
// the access log (REST APIs publish no throttle metric), and the 5xx
// problem documents of each HTTP function, by kind, from its JSON log.
func metricFilters(n names) []metricFilter {
	out := []metricFilter{{"api-throttled", n.accessLogGroup(), "{ $.status = \"429\" }", metricAPIThrottled}}
	for _, part := range []string{apiPart, erasePart} {
		group := "/aws/lambda/" + n.function(part)
		out = append(out,
			metricFilter{part + "-server-errors", group, `{ $.level = "ERROR" && $.msg = "request failed" }`, metricServerErrors},
			metricFilter{part + "-ledger-unavailable", group, `{ $.level = "WARN" && $.msg = "ledger unavailable" }`, metricLedgerUnavailable},
		)
	}
	return out
}

// alarmThresholds are the thresholds config may set (alarmThresholds), each
// with its default for the stage.
func alarmThresholds(c Config) map[string]float64 {
	t := map[string]float64{
		"api5xxPercent":            1,
		"apiLatencyP99Ms":          float64(c.TimeoutSeconds) * 1000 * 0.8,
		"apiThrottled":             10,
		"serverErrors":             0,
		"ledgerUnavailable":        10,
		"functionErrors":           0,
		"functionThrottles":        0,
		"concurrencyPercent":       80,
		"durationPercent":          80,
		"qldbOccConflicts":         10,
		"qldbCommandLatencyMs":     100,
		"auroraAcuPercent":         90,
		"auroraConnectionsPercent": 80,
		"auroraCpuPercent":         80,
		"auroraReplicaLagMs":       2000,
		"wafBlocked":               100,
	}
	return t
}

// alarms are every alarm the stage runs, by its configuration.
func alarms(c Config, n names) []alarm {
	th := c.AlarmThresholds
	five := 300
	api := map[string]string{"ApiName": n.prefix(), "Stage": c.Stage}
	out := []alarm{
		{ID: "api-5xx", Description: "API 5XX responses, percent of requests", Namespace: "AWS/ApiGateway", Metric: "5XXError", RateOf: "Count",
			Dimensions: api, Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["api5xxPercent"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		{ID: "api-latency", Description: "API latency p99, ms, against the function timeout", Namespace: "AWS/ApiGateway", Metric: "Latency",
			Dimensions: api, Statistic: "p99", Period: five, EvaluationPeriods: 2, Threshold: th["apiLatencyP99Ms"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		{ID: "api-throttled", Description: "API requests throttled (429), from the access log", Namespace: metricsNamespace(c.Stage), Metric: metricAPIThrottled,
			Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["apiThrottled"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		{ID: "api-server-errors", Description: "500 problem responses (the ledger failed), from the functions' logs", Namespace: metricsNamespace(c.Stage), Metric: metricServerErrors,
			Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["serverErrors"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
		{ID: "api-ledger-unavailable", Description: "503 problem responses (the ledger busy or unreachable), from the functions' logs", Namespace: metricsNamespace(c.Stage), Metric: metricLedgerUnavailable,
			Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["ledgerUnavailable"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"},
	}
	for _, part := range stageParts(c) {
		fn := map[string]string{"FunctionName": n.function(part)}
		out = append(out, alarm{ID: part + "-errors", Description: "Errors of the " + part + " function", Namespace: "AWS/Lambda", Metric: "Errors",
			Dimensions: fn, Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["functionErrors"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
		if part == apiPart || part == erasePart {
			out = append(out, alarm{ID: part + "-throttles", Description: "Throttled invocations of the " + part + " function", Namespace: "AWS/Lambda", Metric: "Throttles",
				Dimensions: fn, Statistic: "Sum", Period: five, EvaluationPeriods: 1, Threshold: th["functionThrottles"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
		}
	}
	apiFn := map[string]string{"FunctionName": n.function(apiPart)}
	out = append(out, alarm{ID: "api-duration", Description: "API function duration p99, ms, against its timeout", Namespace: "AWS/Lambda", Metric: "Duration",
		Dimensions: apiFn, Statistic: "p99", Period: five, EvaluationPeriods: 2, Threshold: float64(c.TimeoutSeconds) * 1000 * th["durationPercent"] / 100, Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
	if c.APIReservedConcurrency > 0 {
		out = append(out, alarm{ID: "api-concurrency", Description: "API function concurrency against its reservation", Namespace: "AWS/Lambda", Metric: "ConcurrentExecutions",
			Dimensions: apiFn, Statistic: "Maximum", Period: 60, EvaluationPeriods: 5, Threshold: float64(c.APIReservedConcurrency) * th["concurrencyPercent"] / 100, Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
	}
	out = append(out, c.engine.alarms(c, n)...)
	if c.WAF {
		out = append(out, alarm{ID: "waf-blocked", Description: "Requests the WAF blocked", Namespace: "AWS/WAFV2", Metric: "BlockedRequests",
			Dimensions: map[string]string{"WebACL": n.webACL(), "Region": c.Region, "Rule": "ALL"}, Statistic: "Sum", Period: five, EvaluationPeriods: 1,
			Threshold: th["wafBlocked"], Comparison: "GreaterThanThreshold", MissingData: "notBreaching"})
	}
	return out
}

// parseThresholds overlays the configured thresholds on the defaults,
// refusing a key no alarm takes or a negative value.
func parseThresholds(key string, set map[string]float64, defaults map[string]float64) (map[string]float64, error) {
	out := map[string]float64{}
	for k, v := range defaults {
		out[k] = v
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := set[k]
		if _, ok := defaults[k]; !ok {
			known := make([]string, 0, len(defaults))
			for d := range defaults {
				known = append(known, d)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("%s: %q is not a threshold: want one of %v", key, k, known)
		}
		if v < 0 {
			return nil, fmt.Errorf("%s: %s is %g: want 0 or more", key, k, v)
		}
		out[k] = v
	}
	return out, nil
}
