'use strict';
/** Seeds the demo data `npm start` promises. Filled in as the APIs it needs land. */
async function seedDemo() {
  return undefined;
}
module.exports = { seedDemo };
