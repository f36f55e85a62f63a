//! Request signing as pure functions with fixed test vectors: the remoting ACL signature
//! (broker AccessKey/SecretKey), the RocketMQ Open API `_signature`, and the POP-style ASAPI
//! gateway signature.
