// A CommonJS handler that returns its result through the callback, after a timer.
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { doubled: event.value * 2, style: "callback" }), 10);
};
