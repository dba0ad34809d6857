// An ES module handler that returns the event, its context and its environment.
export const handler = async (event, context) => {
  console.log("esm handler ran");
  return {
    event,
    context: {
      awsRequestId: context.awsRequestId,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
      clientContext: context.clientContext ?? null,
      remainingTimeInMillis: context.getRemainingTimeInMillis(),
    },
    environment: process.env,
  };
};
