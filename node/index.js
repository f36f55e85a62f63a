// CommonJS entry: the native addon for this platform; native.js says where it comes from.
'use strict'

module.exports = require('./native.js').loadAddon()
