// An async CommonJS handler in a subfolder, addressed as src/app.handler.
const path = require("path");

exports.handler = async (event) => {
  return { file: path.relative(process.env.LAMBDA_TASK_ROOT, __filename), upper: event.text.toUpperCase() };
};
