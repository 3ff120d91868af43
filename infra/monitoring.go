package infra

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MonitoringArgs configures Monitoring.
type MonitoringArgs struct {
	Prefix    string // the stage's name stem: the topic, alarms and dashboard are named by it
	Region    string
	Alarms    []alarm
	Filters   []metricFilter
	Namespace string // the stage's own metrics
	Emails    []string
	// KMSKeyARN is the stage key; nil makes Monitoring create a key for
	// the topic (alarms cannot publish to a topic under AWS's SNS key).
	KMSKeyARN pulumi.StringPtrInput
	Account   Account
	// WaitFor are what the metric filters need first: their log groups.
	WaitFor []pulumi.Resource
}

// Monitoring is the stage's alarms, delivered to a notification topic
// (encrypted with a customer-managed key CloudWatch may use), on alarm and
// on recovery, the metric filters some of them count, and one dashboard
// with every alarm's metric.
type Monitoring struct {
	pulumi.ResourceState

	TopicARN     pulumi.StringOutput `pulumi:"topicArn"`
	DashboardURL pulumi.StringOutput `pulumi:"dashboardUrl"`
}

// alarmTopic is the stage's alarm topic, under the stage key or, where the
// stage has none, a key made for it (alarms cannot publish to a topic under
// AWS's own SNS key), which only this stage's alarms may publish to.
func alarmTopic(ctx *pulumi.Context, name string, args MonitoringArgs, child pulumi.ResourceOption) (*sns.Topic, error) {
	key := args.KMSKeyARN
	if key == nil {
		k, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
			Description:          pulumi.Sprintf("Encrypts the %s stage's alarm notifications", args.Prefix),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(30),
			Policy:               alarmKeyPolicyJSON(args.Account),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("create alarm key: %w", err)
		}
		key = k.Arn
	}
	topic, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		Name:           pulumi.String(args.Prefix + "-alarms"),
		DisplayName:    pulumi.String(args.Prefix + " alarms"),
		KmsMasterKeyId: key,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create alarm topic: %w", err)
	}
	if _, err := sns.NewTopicPolicy(ctx, name, &sns.TopicPolicyArgs{
		Arn:    topic.Arn,
		Policy: topicPolicyJSON(topic.Arn, args.Prefix, args.Account),
	}, child); err != nil {
		return nil, fmt.Errorf("create alarm topic policy: %w", err)
	}
	return topic, nil
}

// NewMonitoring creates the topic, its key where the stage has none, the
// subscriptions, the metric filters, the alarms and the dashboard.
func NewMonitoring(ctx *pulumi.Context, name string, args MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	m := &Monitoring{}
	if err := ctx.RegisterComponentResource("licences:infra:Monitoring", name, m, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(m)
	topic, err := alarmTopic(ctx, name, args, child)
	if err != nil {
		return nil, err
	}
	for i, e := range args.Emails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-email-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(e),
		}, child); err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", e, err)
		}
	}
	var filters []pulumi.Resource
	for _, f := range args.Filters {
		mf, err := cloudwatch.NewLogMetricFilter(ctx, name+"-"+f.ID, &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(args.Prefix + "-" + f.ID),
			LogGroupName: pulumi.String(f.LogGroup),
			Pattern:      pulumi.String(f.Pattern),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name: pulumi.String(f.Metric), Namespace: pulumi.String(args.Namespace), Value: pulumi.String("1"), Unit: pulumi.String("Count"),
			},
		}, child, pulumi.DependsOn(args.WaitFor))
		if err != nil {
			return nil, fmt.Errorf("create metric filter %s: %w", f.ID, err)
		}
		filters = append(filters, mf)
	}
	actions := pulumi.Array{topic.Arn}
	for _, a := range args.Alarms {
		alarmArgs := &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(args.Prefix + "-" + a.ID),
			AlarmDescription:   pulumi.String(a.Description),
			ComparisonOperator: pulumi.String(a.Comparison),
			EvaluationPeriods:  pulumi.Int(a.EvaluationPeriods),
			Threshold:          pulumi.Float64(a.Threshold),
			TreatMissingData:   pulumi.String(a.MissingData),
			AlarmActions:       actions,
			OkActions:          actions,
		}
		if a.RateOf != "" {
			alarmArgs.MetricQueries = rateQueries(a)
		} else {
			alarmArgs.Namespace = pulumi.String(a.Namespace)
			alarmArgs.MetricName = pulumi.String(a.Metric)
			alarmArgs.Period = pulumi.Int(a.Period)
			alarmArgs.Dimensions = pulumi.ToStringMap(a.Dimensions)
			if strings.HasPrefix(a.Statistic, "p") {
				alarmArgs.ExtendedStatistic = pulumi.String(a.Statistic)
			} else {
				alarmArgs.Statistic = pulumi.String(a.Statistic)
			}
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+a.ID, alarmArgs, child, pulumi.DependsOn(filters)); err != nil {
			return nil, fmt.Errorf("create alarm %s: %w", a.ID, err)
		}
	}
	body, err := dashboardBody(args.Region, args.Alarms)
	if err != nil {
		return nil, err
	}
	dash, err := cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(args.Prefix),
		DashboardBody: pulumi.String(body),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create dashboard: %w", err)
	}
	m.TopicARN = topic.Arn
	m.DashboardURL = pulumi.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s", args.Region, args.Region, dash.DashboardName)
	return m, ctx.RegisterResourceOutputs(m, pulumi.Map{"topicArn": m.TopicARN, "dashboardUrl": m.DashboardURL})
}

// rateQueries are a rate alarm's metric math: 100 × Metric / RateOf.
func rateQueries(a alarm) cloudwatch.MetricAlarmMetricQueryArray {
	metric := func(id, name string) cloudwatch.MetricAlarmMetricQueryArgs {
		return cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(id), Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
			Namespace: pulumi.String(a.Namespace), MetricName: pulumi.String(name), Dimensions: pulumi.ToStringMap(a.Dimensions),
			Period: pulumi.Int(a.Period), Stat: pulumi.String("Sum"),
		}}
	}
	return cloudwatch.MetricAlarmMetricQueryArray{
		metric("errors", a.Metric), metric("requests", a.RateOf),
		cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String("rate"), Expression: pulumi.String("IF(requests > 0, 100 * errors / requests, 0)"),
			Label: pulumi.String(a.Description), ReturnData: pulumi.Bool(true)},
	}
}

// dashboardBody is one metric widget per alarm, with its threshold drawn.
func dashboardBody(region string, alarms []alarm) (string, error) {
	type widget struct {
		Type       string         `json:"type"`
		X          int            `json:"x"`
		Y          int            `json:"y"`
		Width      int            `json:"width"`
		Height     int            `json:"height"`
		Properties map[string]any `json:"properties"`
	}
	var widgets []widget
	for i, a := range alarms {
		var metrics []any
		line := func(metric string, extra map[string]any) []any {
			row := []any{a.Namespace, metric}
			keys := make([]string, 0, len(a.Dimensions))
			for k := range a.Dimensions {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				row = append(row, k, a.Dimensions[k])
			}
			return append(row, extra)
		}
		if a.RateOf != "" {
			metrics = []any{
				[]any{map[string]any{"expression": "100 * errors / requests", "label": a.Description, "id": "rate"}},
				line(a.Metric, map[string]any{"id": "errors", "stat": "Sum", "visible": false}),
				line(a.RateOf, map[string]any{"id": "requests", "stat": "Sum", "visible": false}),
			}
		} else {
			metrics = []any{line(a.Metric, map[string]any{"stat": a.Statistic})}
		}
		widgets = append(widgets, widget{Type: "metric", X: (i % 2) * 12, Y: (i / 2) * 6, Width: 12, Height: 6, Properties: map[string]any{
			"title": a.Description, "region": region, "metrics": metrics, "period": a.Period, "view": "timeSeries",
			"annotations": map[string]any{"horizontal": []any{map[string]any{"value": a.Threshold, "label": "alarm"}}},
		}})
	}
	b, err := json.Marshal(map[string]any{"widgets": widgets})
	if err != nil {
		return "", fmt.Errorf("dashboard: %w", err)
	}
	return string(b), nil
}

// cloudWatchKeyActions are what CloudWatch needs of a topic's key to
// publish an alarm to it.
var cloudWatchKeyActions = []string{"kms:Decrypt", "kms:GenerateDataKey*"}

// alarmKeyPolicyJSON is the policy of the key made for a topic where the
// stage has no key: the account administers it through IAM; CloudWatch of
// this account may use it to publish.
func alarmKeyPolicyJSON(account Account) pulumi.StringOutput {
	return pulumi.All(account.Partition, account.ID).ApplyT(func(v []any) (string, error) {
		partition, id := v[0].(string), v[1].(string)
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []Statement{
			accountAdministers(partition, id, []string{"kms:*"}, "*"),
			cloudWatchKeyStatement(id),
		}})
	}).(pulumi.StringOutput)
}

// cloudWatchKeyStatement lets CloudWatch alarms of the account publish to
// a topic under the key.
func cloudWatchKeyStatement(account string) Statement {
	return Statement{Sid: "CloudWatchAlarmsPublish", Effect: "Allow", Principal: &Principal{Service: []string{"cloudwatch.amazonaws.com"}},
		Action: cloudWatchKeyActions, Resource: []string{"*"},
		Condition: Condition{"StringEquals": {"aws:SourceAccount": {account}}}}
}

// topicPolicyJSON lets the stage's alarms, and nothing else, publish to
// the topic; the account keeps its own use of it through IAM.
func topicPolicyJSON(topicARN pulumi.StringOutput, prefix string, account Account) pulumi.StringOutput {
	return pulumi.All(topicARN, account.Partition, account.Region, account.ID).ApplyT(func(v []any) (string, error) {
		topic, partition, region, id := v[0].(string), v[1].(string), v[2].(string), v[3].(string)
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []Statement{
			accountAdministers(partition, id, []string{"sns:GetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"}, topic),
			{Sid: "StageAlarmsPublish", Effect: "Allow", Principal: &Principal{Service: []string{"cloudwatch.amazonaws.com"}},
				Action: []string{"sns:Publish"}, Resource: []string{topic},
				Condition: Condition{
					"StringEquals": {"aws:SourceAccount": {id}},
					"ArnLike":      {"aws:SourceArn": {fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s-*", partition, region, id, prefix)}},
				}},
		}})
	}).(pulumi.StringOutput)
}
