const test = require("node:test");
test("imports the fixtures", () => {});
