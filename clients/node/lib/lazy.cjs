"use strict";
// The object the test-framework helpers return at once, before their
// before/beforeAll hook has started (or found) the server: every property
// and method goes to the server, which must be there by then.

const { FtpfixtureError } = require("./index.cjs");

function lazyServer(get, helper) {
  return new Proxy(Object.create(null), {
    get(_target, prop) {
      const server = get();
      if (!server) {
        // Not a thenable, and inspectable, while there is no server yet.
        if (prop === "then" || typeof prop === "symbol") return undefined;
        throw new FtpfixtureError(
          `the ftpfixture server of ${helper}() is not started yet: use it inside tests and hooks, ` +
            `not at the top level of the file (it starts in the before-all hook ${helper}() registered)`,
        );
      }
      const value = Reflect.get(server, prop, server);
      return typeof value === "function" ? value.bind(server) : value;
    },
    has(_target, prop) {
      const server = get();
      return server ? prop in server : false;
    },
    ownKeys() {
      const server = get();
      return server ? Reflect.ownKeys(server) : [];
    },
    getOwnPropertyDescriptor(_target, prop) {
      const server = get();
      const descriptor = server ? Reflect.getOwnPropertyDescriptor(server, prop) : undefined;
      // The target has no own properties, so these must be configurable.
      return descriptor ? { ...descriptor, configurable: true } : undefined;
    },
    getPrototypeOf() {
      const server = get();
      return server ? Object.getPrototypeOf(server) : null;
    },
  });
}

module.exports = { lazyServer };
