package main

import (
	"github.com/pulumi-opensearch-fn/pulumi-opensearch-fn/sdk/go/opensearchfn"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		app, function, instance := pulumi.String("my_app"), pulumi.String("ctr"), pulumi.String("ctr_test")
		model, err := opensearchfn.NewFunctionInstance(ctx, "model", &opensearchfn.FunctionInstanceArgs{
			AppGroup:     app,
			FunctionName: function,
			InstanceName: instance,
			Expect: &opensearchfn.ExpectArgs{
				Status:        pulumi.String("available"),
				MinGeneration: pulumi.Int(3),
				MaxAge:        pulumi.String("36h"),
				Metrics:       pulumi.StringMap{"recall": pulumi.String(">= 90")},
				NoTaskErrors:  pulumi.Bool(true),
			},
			// Optional: `up` polls until ready.
			Wait: &opensearchfn.WaitArgs{Timeout: pulumi.String("10m"), Interval: pulumi.String("15s")},
		})
		if err != nil {
			return err
		}
		// Anything the model gates depends on it.
		release, err := opensearchfn.NewFunctionTask(ctx, "release", &opensearchfn.FunctionTaskArgs{
			AppGroup:     app,
			FunctionName: function,
			InstanceName: instance,
			Generation:   pulumi.String("latest"),
		}, pulumi.DependsOn([]pulumi.Resource{model}))
		if err != nil {
			return err
		}
		history := opensearchfn.GetFunctionTasksOutput(ctx, opensearchfn.GetFunctionTasksOutputArgs{
			AppGroup:     app,
			FunctionName: function,
			InstanceName: instance,
			Limit:        pulumi.Int(5),
		})
		ctx.Export("generation", model.LatestGeneration)
		ctx.Export("recall", release.Metrics.MapIndex(pulumi.String("recall")))
		ctx.Export("history", history.Tasks())
		return nil
	})
}
