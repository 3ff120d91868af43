package preflight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/privateledger/licences/function/schema"
)

// maxActivation bounds the wait for a function to become active: Lambda
// recreates a VPC function's network interfaces in minutes.
const maxActivation = 10 * time.Minute

// Activate returns once the function can be invoked. Lambda sets a
// function that has been idle for weeks to Inactive, having reclaimed its
// VPC network interfaces; "when you try to invoke a function that is
// inactive, the invocation fails and Lambda sets the function to pending
// state until the function resources are recreated", and it asks
// automation to "check a function's state before invocation to verify that
// it is active" (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html).
// So an inactive function is invoked once (schema.ActivationEvent, which
// the migration answers by doing nothing), to start that, and then waited
// for with the SDK's FunctionActive waiter; a pending one is waited for; a
// failed one is an error.
func (c *Checker) Activate(ctx context.Context, name string) error {
	got, err := c.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
	if err != nil {
		return c.apiError("lambda", "GetFunctionConfiguration", err)
	}
	switch got.State {
	case types.StateActive:
		return nil
	case types.StateInactive:
		// Once: the SDK would retry the 502, and a retry finds the function
		// pending (409 ResourceConflictException), which is what was asked.
		_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(schema.ActivationEvent)},
			func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
		var notReady *types.ResourceNotReadyException
		var pending *types.ResourceConflictException
		if err != nil && !errors.As(err, &notReady) && !errors.As(err, &pending) {
			return c.apiError("lambda", "Invoke", err)
		}
	case types.StatePending:
	default:
		return fmt.Errorf("lambda function %s is %s (%s): it cannot be invoked until it is deployed again", name, got.State, aws.ToString(got.StateReason))
	}
	w := lambda.NewFunctionActiveWaiter(c.lambda, func(o *lambda.FunctionActiveWaiterOptions) {
		if c.pollDelay > 0 {
			o.MinDelay, o.MaxDelay = c.pollDelay, c.pollDelay
		}
	})
	if err := w.Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)}, maxActivation); err != nil {
		return fmt.Errorf("lambda function %s did not become active: %w", name, err)
	}
	return nil
}
