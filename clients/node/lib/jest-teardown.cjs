"use strict";
// ftpfixture/jest-teardown: the globalTeardown that goes with ftpfixture/jest-setup.
module.exports = require("./jest-setup.cjs").teardown;
