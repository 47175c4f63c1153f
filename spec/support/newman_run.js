// Runs the vendor's Postman collection with newman against a running
// kiamo-mock and prints, as one JSON array on stdout, each request's name,
// method, status and body. The collection is not changed on disk: the copy
// in memory gets a collection-level pre-request script that adds the
// Kiamo-Api-Token header (the environment's apiToken) to the requests that
// lack it.
//
// usage: node newman_run.js NEWMAN_PREFIX COLLECTION ENVIRONMENT URL
'use strict';

const fs = require('fs');
const path = require('path');

const [prefix, collectionPath, environmentPath, url] = process.argv.slice(2);
const newman = require(path.resolve(prefix, 'node_modules', 'newman'));

const ADD_TOKEN = [
  "if (!pm.request.headers.has('Kiamo-Api-Token')) {",
  '  pm.request.headers.add({key: \'Kiamo-Api-Token\',',
  "                          value: pm.environment.get('apiToken')});",
  '}',
];

const collection = JSON.parse(fs.readFileSync(collectionPath, 'utf8'));
collection.event = (collection.event || [])
  .filter((event) => event.listen !== 'prerequest');
collection.event.push({
  listen: 'prerequest',
  script: {type: 'text/javascript', exec: ADD_TOKEN},
});

newman.run({
  collection: collection,
  environment: environmentPath,
  envVar: [{key: 'kiamoUrl', value: url}],
  reporters: [],
  timeoutRequest: 10000,
}, (err, summary) => {
  if (err) {
    process.stderr.write(`newman failed: ${err.stack || err}\n`);
    process.exit(1);
  }
  const results = summary.run.executions.map((execution) => ({
    name: execution.item.name,
    method: execution.request.method,
    status: execution.response ? execution.response.code : null,
    body: execution.response ? execution.response.stream.toString() : null,
    error: execution.requestError ? String(execution.requestError) : null,
  }));
  process.stdout.write(JSON.stringify(results) + '\n');
});
