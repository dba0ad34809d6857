// Calls the Lambda API through the AWS SDK for JavaScript v3 with no endpoint, region or
// credentials in the code. The SDK reads AWS_ENDPOINT_URL, AWS_REGION and the AWS_ACCESS_KEY_ID
// pair from the environment, and the zip ships @aws-sdk/client-lambda in node_modules.
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  paginateListFunctions,
} from "@aws-sdk/client-lambda";

// Records the host and Authorization header of each request after the SDK has signed it. The
// deserialize step runs after finalizeRequest, where the SDK signs, so the headers are final.
function recordRequests(client, sent) {
  client.middlewareStack.add(
    (next) => async (args) => {
      const { hostname, port, headers } = args.request;
      sent.push({ host: port ? `${hostname}:${port}` : hostname,
                  authorization: headers.authorization ?? headers.Authorization ?? null });
      return next(args);
    },
    { step: "deserialize", name: "recordRequests" },
  );
}

export const handler = async (event, context) => {
  const client = new LambdaClient({});
  const sent = [];
  recordRequests(client, sent);

  const names = [];
  for await (const page of paginateListFunctions({ client }, {})) {
    names.push(...page.Functions.map((fn) => fn.FunctionName));
  }
  const own = await client.send(
    new GetFunctionConfigurationCommand({ FunctionName: context.functionName }));
  const credentials = await client.config.credentials();

  return {
    names,
    ownArn: own.FunctionArn,
    region: await client.config.region(),
    accessKeyId: credentials.accessKeyId,
    requests: sent,
  };
};
