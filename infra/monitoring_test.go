package infra

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// topicKeyARN is the key the stage's alarm topic is encrypted with: the
// stage key, or the key made for the topic.
func topicKeyARN(d *deployment) string {
	if k := stageKeyARN(d); k != "" {
		return k
	}
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/0d1b2c3d-0000-4000-8000-000000000000", d.config.Region, testAccount)
}

// The topic: one per stage, under a customer-managed key whose policy lets
// CloudWatch of this account use it, and a policy that lets this stage's
// alarms publish.
//
// Mutant: monitoring.go `		KmsMasterKeyId: key,` -> `		KmsMasterKeyId: pulumi.String("alias/aws/sns"),`
// Mutant: monitoring.go `		Action: cloudWatchKeyActions, Resource: []string{"*"},` -> `		Action: []string{"kms:Decrypt"}, Resource: []string{"*"},`
// Mutant: kms.go `			cloudWatchKeyStatement(id),` -> `			// no statement for CloudWatch`
func TestTheAlarmTopicIsEncryptedWithAKeyCloudWatchMayUse(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		topic := d.one(t, "aws:sns/topic:Topic", "monitoring").Inputs
		if topic["name"] != "licences-"+d.config.Stage+"-alarms" || topic["kmsMasterKeyId"] != topicKeyARN(d) {
			t.Errorf("topic %v, want licences-%s-alarms under %s", topic, d.config.Stage, topicKeyARN(d))
		}
		keyName := "key"
		if stageKeyARN(d) == "" {
			keyName = "monitoring-key"
		}
		var found bool
		for _, s := range policy(t, d.one(t, "aws:kms/key:Key", keyName), "policy").Statement {
			cond, _ := json.Marshal(s.Condition)
			if s.Sid == "CloudWatchAlarmsPublish" {
				found = true
				if !slices.Equal(s.Principal.Service, []string{"cloudwatch.amazonaws.com"}) || !slices.Equal(s.Action, []string{"kms:Decrypt", "kms:GenerateDataKey*"}) ||
					string(cond) != `{"StringEquals":{"aws:SourceAccount":["`+testAccount+`"]}}` {
					t.Errorf("key statement %+v, want CloudWatch of this account to decrypt and make data keys", s)
				}
			}
		}
		if !found {
			t.Errorf("the %s key does not let CloudWatch publish to the topic", keyName)
		}
		doc := policy(t, d.one(t, "aws:sns/topicPolicy:TopicPolicy", "monitoring"), "policy")
		var publish bool
		for _, s := range doc.Statement {
			if s.Principal.Service != nil {
				publish = true
				cond, _ := json.Marshal(s.Condition)
				want := `{"ArnLike":{"aws:SourceArn":["arn:aws:cloudwatch:` + d.config.Region + `:` + testAccount + `:alarm:licences-` + d.config.Stage + `-*"]},"StringEquals":{"aws:SourceAccount":["` + testAccount + `"]}}`
				if !slices.Equal(s.Principal.Service, []string{"cloudwatch.amazonaws.com"}) || !slices.Equal(s.Action, []string{"sns:Publish"}) || string(cond) != want {
					t.Errorf("topic policy %+v (%s), want this stage's alarms to publish", s, cond)
				}
			}
		}
		if !publish {
			t.Error("the topic policy lets no alarm publish")
		}
	})
	d := mustDeploy(t, "dev", map[string]string{"licences:alarmEmails": `["ops@example.com","oncall@example.com"]`})
	subs := d.all(t, "aws:sns/topicSubscription:TopicSubscription", 2)
	for i, s := range subs {
		if s.Inputs["protocol"] != "email" || s.Inputs["topic"] != "arn:aws:sns:eu-west-2:"+testAccount+":licences-dev-alarms" {
			t.Errorf("subscription %d: %v", i, s.Inputs)
		}
	}
	if d.outputs["alarmTopicArn"] != "arn:aws:sns:eu-west-2:"+testAccount+":licences-dev-alarms" {
		t.Errorf("alarmTopicArn = %v", d.outputs["alarmTopicArn"])
	}
}

// wantAlarms are the alarms each stage must run, by what it is: written
// out here, not derived from the code under test.
func wantAlarms(d *deployment) []string {
	want := []string{"api-5xx", "api-latency", "api-throttled", "api-server-errors", "api-ledger-unavailable", "api-duration",
		"api-errors", "api-throttles", "erase-errors", "erase-throttles", "migrate-errors"}
	if d.config.APIReservedConcurrency > 0 {
		want = append(want, "api-concurrency")
	}
	switch d.config.LedgerEngine {
	case env.QLDB:
		want = append(want, "qldb-occ-conflicts", "qldb-command-latency")
	case env.AuroraPostgreSQL:
		want = append(want, "digest-errors", "aurora-acu", "aurora-connections", "aurora-cpu", "ledger-unverified")
		if d.config.AuroraReaders > 0 {
			want = append(want, "aurora-replica-lag")
		}
	}
	if d.config.WAF {
		want = append(want, "waf-blocked")
	}
	return sorted(want)
}

// Every alarm runs on the stages it applies to, on its metric, with
// dimensions naming this stage's resources, its threshold, missing data
// that a quiet stage does not alarm on (but a silent digest does), and the
// topic on alarm and on recovery.
//
// Mutant: alarms.go `		out = append(out, alarm{ID: "api-concurrency",` -> `		_ = append(out, alarm{ID: "api-concurrency",`
// Mutant: monitoring.go `			OkActions:          actions,` -> `			OkActions:          pulumi.Array{},`
// Mutant: database.go `Statistic: "Minimum", Period: 86400, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold", MissingData: "breaching"})` -> `Statistic: "Minimum", Period: 86400, EvaluationPeriods: 1, Threshold: 1, Comparison: "LessThanThreshold", MissingData: "notBreaching"})`
// Mutant: alarms.go `		"api5xxPercent":            1,` -> `		"api5xxPercent":            50,`
func TestEveryAlarmWatchesThisStageAndNotifies(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		prefix := "licences-" + d.config.Stage
		topic := "arn:aws:sns:" + d.config.Region + ":" + testAccount + ":" + prefix + "-alarms"
		var got []string
		for _, a := range d.ofType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			in := a.Inputs
			id := strings.TrimPrefix(fmt.Sprint(in["name"]), prefix+"-")
			got = append(got, id)
			if !slices.Equal(strs(in["alarmActions"]), []string{topic}) || !slices.Equal(strs(in["okActions"]), []string{topic}) {
				t.Errorf("%s: actions %v / %v, want the topic on alarm and on recovery", id, in["alarmActions"], in["okActions"])
			}
			wantMissing := "notBreaching"
			if id == "ledger-unverified" {
				wantMissing = "breaching"
			}
			if in["treatMissingData"] != wantMissing {
				t.Errorf("%s treats missing data as %v, want %s", id, in["treatMissingData"], wantMissing)
			}
			dims, _ := in["dimensions"].(map[string]any)
			if queries, ok := in["metricQueries"].([]any); ok {
				m, _ := queries[0].(map[string]any)["metric"].(map[string]any)
				dims, _ = m["dimensions"].(map[string]any)
			}
			for k, v := range dims {
				if k != "Region" && k != "Rule" && k != "Stage" && !strings.HasPrefix(fmt.Sprint(v), prefix) {
					t.Errorf("%s: dimension %s=%v does not name this stage's resource", id, k, v)
				}
			}
		}
		if got, want := sorted(got), wantAlarms(d); !slices.Equal(got, want) {
			t.Errorf("alarms:%s", diffLines(got, want))
		}
		th := d.config.AlarmThresholds
		for id, want := range map[string]float64{
			"api-5xx": th["api5xxPercent"], "api-latency": float64(d.config.TimeoutSeconds) * 800, "api-duration": float64(d.config.TimeoutSeconds) * 800,
		} {
			if got := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-"+id).Inputs["threshold"]; got != want {
				t.Errorf("%s threshold %v, want %v", id, got, want)
			}
		}
		if th["api5xxPercent"] != 1 {
			t.Errorf("the default 5XX threshold is %v%%, want 1%%", th["api5xxPercent"])
		}
		api5xx := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-api-5xx").Inputs
		queries, _ := api5xx["metricQueries"].([]any)
		if len(queries) != 3 || !strings.Contains(fmt.Sprint(queries), "5XXError") || !strings.Contains(fmt.Sprint(queries), "Count") {
			t.Errorf("the 5XX alarm %v, want a rate of 5XXError over Count", queries)
		}
		if d.config.LedgerEngine == env.AuroraPostgreSQL {
			c := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-aurora-connections").Inputs
			if c["threshold"] != float64(d.config.maxConnections())*80/100 || c["metricName"] != "DatabaseConnections" {
				t.Errorf("connections alarm %v, want 80%% of %d", c, d.config.maxConnections())
			}
		}
	})
	// A configured threshold replaces the default.
	d := mustDeploy(t, "dev", map[string]string{"licences:alarmThresholds": `{"api5xxPercent":5}`})
	if got := d.one(t, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-api-5xx").Inputs["threshold"]; got != 5.0 {
		t.Errorf("configured 5XX threshold: %v, want 5", got)
	}
}

// The metric filters: 429s from the access log, and 5xx problems by kind
// from each HTTP function's JSON log, into the stage's namespace.
//
// Mutant: alarms.go `"{ $.status = \"429\" }"` -> `"{ $.status = \"4*\" }"`
func TestMetricFiltersCountThrottlesAndServerErrors(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		prefix := "licences-" + d.config.Stage
		want := map[string]string{
			"api-throttled":            "/aws/apigateway/" + prefix + "/access " + `{ $.status = "429" }` + " ApiThrottled",
			"api-server-errors":        "/aws/lambda/" + prefix + "-api " + `{ $.level = "ERROR" && $.msg = "request failed" }` + " ServerErrors",
			"api-ledger-unavailable":   "/aws/lambda/" + prefix + "-api " + `{ $.level = "WARN" && $.msg = "ledger unavailable" }` + " LedgerUnavailable",
			"erase-server-errors":      "/aws/lambda/" + prefix + "-erase " + `{ $.level = "ERROR" && $.msg = "request failed" }` + " ServerErrors",
			"erase-ledger-unavailable": "/aws/lambda/" + prefix + "-erase " + `{ $.level = "WARN" && $.msg = "ledger unavailable" }` + " LedgerUnavailable",
		}
		for _, f := range d.all(t, "aws:cloudwatch/logMetricFilter:LogMetricFilter", len(want)) {
			id := strings.TrimPrefix(f.Name, "monitoring-")
			mt, _ := f.Inputs["metricTransformation"].(map[string]any)
			if got := fmt.Sprintf("%v %v %v", f.Inputs["logGroupName"], f.Inputs["pattern"], mt["name"]); got != want[id] || mt["namespace"] != "Licences/"+d.config.Stage {
				t.Errorf("metric filter %s: %s in %v, want %s in Licences/%s", id, got, mt["namespace"], want[id], d.config.Stage)
			}
		}
	})
}

// The dashboard: one widget per alarm, every metric on this stage's
// resources.
//
// Mutant: monitoring.go `		DashboardName: pulumi.String(args.Prefix),` -> `		DashboardName: pulumi.String("licences"),`
func TestTheDashboardShowsOnlyThisStage(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		prefix := "licences-" + d.config.Stage
		dash := d.one(t, "aws:cloudwatch/dashboard:Dashboard", "monitoring").Inputs
		var body struct {
			Widgets []struct {
				Properties struct {
					Region  string
					Metrics [][]any
				}
			}
		}
		if err := json.Unmarshal([]byte(fmt.Sprint(dash["dashboardBody"])), &body); err != nil {
			t.Fatal(err)
		}
		if dash["dashboardName"] != prefix || len(body.Widgets) != len(wantAlarms(d)) {
			t.Errorf("dashboard %v with %d widgets, want %s with one per alarm (%d)", dash["dashboardName"], len(body.Widgets), prefix, len(wantAlarms(d)))
		}
		for _, w := range body.Widgets {
			if w.Properties.Region != d.config.Region {
				t.Errorf("widget in region %s", w.Properties.Region)
			}
			for _, row := range w.Properties.Metrics {
				for i := 2; i+1 < len(row); i += 2 {
					k, v := fmt.Sprint(row[i]), fmt.Sprint(row[i+1])
					if k != "Region" && k != "Rule" && k != "Stage" && !strings.HasPrefix(v, prefix) {
						t.Errorf("widget metric %v names %s=%s, not this stage's", row, k, v)
					}
				}
			}
		}
		if want := "https://" + d.config.Region + ".console.aws.amazon.com/cloudwatch/home?region=" + d.config.Region + "#dashboards:name=" + prefix; d.outputs["dashboardUrl"] != want {
			t.Errorf("dashboardUrl = %v, want %s", d.outputs["dashboardUrl"], want)
		}
	})
}

// dev pauses at 0 ACU after its delay, and its functions keep no
// connection between invocations, so it really pauses.
//
// Mutant: database.go `			SecondsUntilAutoPause: pausing(args.MinCapacity, args.SecondsUntilAutoPause),` -> `			SecondsUntilAutoPause: nil,`
// Mutant: database.go `	cluster := env.PostgresConfig{Port: postgresPort, Database: databaseName, User: env.APIDatabaseUser, ReleaseIdle: cfg.pauses()}` -> `	cluster := env.PostgresConfig{Port: postgresPort, Database: databaseName, User: env.APIDatabaseUser}`
func TestDevPausesAtZero(t *testing.T) {
	d := mustDeploy(t, "dev", nil)
	scaling, _ := d.one(t, "aws:rds/cluster:Cluster", "database").Inputs["serverlessv2ScalingConfiguration"].(map[string]any)
	if scaling["minCapacity"] != 0.0 || num(scaling["secondsUntilAutoPause"]) != 300 {
		t.Errorf("dev scaling %v, want 0 ACU pausing after 300 s", scaling)
	}
	for _, part := range partsOf(d) {
		if part == migrationPart {
			continue
		}
		if v := d.variables(t, part)[env.DBReleaseIdle]; v != "true" {
			t.Errorf("%s: %s=%q, want true: a frozen instance would keep the cluster awake", part, env.DBReleaseIdle, v)
		}
	}
	if d.config.DeletionProtection || d.config.KMSKey != "" || d.config.WAF || d.config.LogRetentionDays > 7 {
		t.Errorf("dev %+v, want it cheap: no protection, no key, no WAF, short retention", d.config)
	}
	prod := mustDeploy(t, "prod", nil)
	scaling, _ = prod.one(t, "aws:rds/cluster:Cluster", "database").Inputs["serverlessv2ScalingConfiguration"].(map[string]any)
	if scaling["secondsUntilAutoPause"] != nil || prod.variables(t, apiPart)[env.DBReleaseIdle] != "" {
		t.Errorf("prod %v, want no pause and connections kept", scaling)
	}
}
