//! One function per SQS operation: decode the input shape, call the core,
//! encode the output shape. No HTTP and no queue logic here.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use eddy_core::sqs::{
    validate_batch_ids, Queue, QueueName, ReceiveRequest, SendRequest, SqsError, SqsResult, MAX_MESSAGE_BYTES,
};
use eddy_wire::error::WireError;
use eddy_wire::sqs as s;

use super::convert::{self, queue_name_from_url, queue_url};
use super::{errors, Protocol};
use crate::request::RequestCtx;
use crate::server::AppState;

type Output = Result<Option<Value>, WireError>;

pub async fn dispatch(state: &AppState, ctx: &RequestCtx, proto: Protocol, op: &str, input: Value) -> Output {
    crate::authz::sqs::authorize(state, ctx, op, &input)?;
    let h = Handler { state, ctx };
    macro_rules! run {
        ($method:ident) => {
            emit(h.$method(decode(proto, input)?).await)
        };
    }
    match op {
        "CreateQueue" => run!(create_queue),
        "DeleteQueue" => run!(delete_queue),
        "GetQueueUrl" => run!(get_queue_url),
        "ListQueues" => run!(list_queues),
        "GetQueueAttributes" => run!(get_queue_attributes),
        "SetQueueAttributes" => run!(set_queue_attributes),
        "PurgeQueue" => run!(purge_queue),
        "SendMessage" => run!(send_message),
        "SendMessageBatch" => run!(send_message_batch),
        "ReceiveMessage" => run!(receive_message),
        "DeleteMessage" => run!(delete_message),
        "DeleteMessageBatch" => run!(delete_message_batch),
        "ChangeMessageVisibility" => run!(change_message_visibility),
        "ChangeMessageVisibilityBatch" => run!(change_message_visibility_batch),
        "TagQueue" => run!(tag_queue),
        "UntagQueue" => run!(untag_queue),
        "ListQueueTags" => run!(list_queue_tags),
        "AddPermission" => run!(add_permission),
        "RemovePermission" => run!(remove_permission),
        "ListDeadLetterSourceQueues" => run!(list_dead_letter_source_queues),
        "StartMessageMoveTask" => run!(start_message_move_task),
        "CancelMessageMoveTask" => run!(cancel_message_move_task),
        "ListMessageMoveTasks" => run!(list_message_move_tasks),
        other => Err(match proto {
            Protocol::Json => errors::unknown_operation(other),
            Protocol::Query => errors::invalid_action(other),
        }),
    }
}

fn decode<T: DeserializeOwned>(proto: Protocol, v: Value) -> Result<T, WireError> {
    serde_json::from_value(v).map_err(|e| match proto {
        Protocol::Json => errors::serialization(format!("Invalid request: {e}")),
        Protocol::Query => errors::invalid_parameter(format!("Invalid request: {e}")),
    })
}

/// `None` output: the operation has no result members.
fn emit<T: Serialize>(r: SqsResult<Option<T>>) -> Output {
    match r {
        Ok(Some(v)) => Ok(Some(serde_json::to_value(v).map_err(|e| errors::wire(&SqsError::Internal(e.to_string())))?)),
        Ok(None) => Ok(None),
        Err(e) => Err(errors::wire(&e)),
    }
}

type Empty = Option<()>;

struct Handler<'a> {
    state: &'a AppState,
    ctx: &'a RequestCtx,
}

impl Handler<'_> {
    fn sqs(&self) -> &Arc<eddy_core::sqs::Sqs> {
        &self.state.sqs
    }

    fn queue(&self, url: &str) -> SqsResult<Arc<Queue>> {
        if url.is_empty() {
            return Err(SqsError::MissingParameter("QueueUrl".into()));
        }
        self.sqs().lookup(&queue_name_from_url(url, &self.ctx.caller)?)
    }

    fn url_of(&self, q: &Queue) -> String {
        queue_url(&self.ctx.base_url, &q.queue_name())
    }

    async fn create_queue(&self, i: s::CreateQueueInput) -> SqsResult<Option<s::QueueUrlOutput>> {
        if i.queue_name.is_empty() {
            return Err(SqsError::MissingParameter("QueueName".into()));
        }
        let q = self.sqs().create_queue(&self.ctx.caller, &i.queue_name, i.attributes, i.tags).await?;
        Ok(Some(s::QueueUrlOutput { queue_url: self.url_of(&q) }))
    }

    async fn delete_queue(&self, i: s::QueueUrlInput) -> SqsResult<Empty> {
        self.sqs().delete_queue(&*self.queue(&i.queue_url)?).await.map(|_| None)
    }

    async fn get_queue_url(&self, i: s::GetQueueUrlInput) -> SqsResult<Option<s::QueueUrlOutput>> {
        if i.queue_name.is_empty() {
            return Err(SqsError::MissingParameter("QueueName".into()));
        }
        let account = i.queue_owner_a_w_s_account_id.unwrap_or_else(|| self.ctx.caller.account.clone());
        let name = QueueName { account, region: self.ctx.caller.region.clone(), name: i.queue_name };
        let q = self.sqs().lookup(&name)?;
        Ok(Some(s::QueueUrlOutput { queue_url: self.url_of(&q) }))
    }

    async fn list_queues(&self, i: s::ListQueuesInput) -> SqsResult<Option<s::ListQueuesOutput>> {
        let prefix = i.queue_name_prefix.as_deref().unwrap_or("");
        let page = self.sqs().list_queues_page(&self.ctx.caller, prefix, i.max_results, i.next_token.as_deref())?;
        let queue_urls = page.items.iter().map(|q| self.url_of(q)).collect();
        Ok(Some(s::ListQueuesOutput { queue_urls, next_token: page.next_token }))
    }

    async fn get_queue_attributes(&self, i: s::GetQueueAttributesInput) -> SqsResult<Option<s::AttributesOutput>> {
        let q = self.queue(&i.queue_url)?;
        let attributes = self.sqs().get_attributes(&q, &i.attribute_names)?;
        Ok(Some(s::AttributesOutput { attributes }))
    }

    async fn set_queue_attributes(&self, i: s::SetQueueAttributesInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        self.sqs().set_attributes(&q, i.attributes).await.map(|_| None)
    }

    async fn purge_queue(&self, i: s::QueueUrlInput) -> SqsResult<Empty> {
        self.sqs().purge(&*self.queue(&i.queue_url)?).await.map(|_| None)
    }

    async fn send_message(&self, i: s::SendMessageInput) -> SqsResult<Option<s::SendMessageOutput>> {
        let q = self.queue(&i.queue_url)?;
        let req = SendRequest { trace_header: self.ctx.trace_header.clone(), ..convert::send_request(i.message)? };
        Ok(Some(convert::sent_out(self.sqs().send(&q, &self.ctx.caller, req).await?)))
    }

    async fn send_message_batch(
        &self,
        i: s::SendMessageBatchInput,
    ) -> SqsResult<Option<s::BatchOutput<s::SendMessageBatchResultEntry>>> {
        let q = self.queue(&i.queue_url)?;
        validate_batch_ids(i.entries.iter().map(|e| e.id.as_str()), "SendMessageBatchRequestEntry")?;
        let mut out = s::BatchOutput { successful: Vec::new(), failed: Vec::new() };
        let mut valid = Vec::new();
        let mut total = 0;
        for e in i.entries {
            match convert::send_request(e.message) {
                Ok(req) => {
                    let req = SendRequest { trace_header: self.ctx.trace_header.clone(), ..req };
                    total += eddy_core::sqs::message_size(&req.body, &req.attributes);
                    valid.push((e.id, req));
                }
                Err(err) => out.failed.push(failed_entry(e.id, &err)),
            }
        }
        if total > MAX_MESSAGE_BYTES {
            return Err(SqsError::BatchRequestTooLong(total));
        }
        for (id, r) in self.sqs().send_batch(&q, &self.ctx.caller, valid).await? {
            match r {
                Ok(sent) => out.successful.push(s::SendMessageBatchResultEntry { id, sent: convert::sent_out(sent) }),
                Err(err) => out.failed.push(failed_entry(id, &err)),
            }
        }
        Ok(Some(out))
    }

    async fn receive_message(&self, i: s::ReceiveMessageInput) -> SqsResult<Option<s::ReceiveMessageOutput>> {
        let q = self.queue(&i.queue_url)?;
        let mut system = i.message_system_attribute_names;
        system.extend(i.attribute_names);
        let req = ReceiveRequest {
            max_messages: i.max_number_of_messages,
            visibility_secs: i.visibility_timeout,
            wait_secs: i.wait_time_seconds,
            system_attribute_names: system,
            attribute_names: i.message_attribute_names,
            attempt_id: i.receive_request_attempt_id,
        };
        // A long poll parked on a node that stops leading returns empty at
        // once: sends now reach the new leader, where the client's next
        // poll goes. (Messages it had already claimed come back after their
        // visibility timeout, as after a kill.)
        let mut retired = self.state.retired.subscribe();
        let messages = tokio::select! {
            received = self.sqs().receive(&q, req) => received?,
            Ok(_) = retired.wait_for(|retired| *retired) => {
                tracing::info!(queue = %q.name, "long poll ended empty: this node no longer leads");
                Vec::new()
            }
        };
        Ok(Some(s::ReceiveMessageOutput { messages: messages.into_iter().map(convert::message_out).collect() }))
    }

    async fn delete_message(&self, i: s::DeleteMessageInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        if i.receipt_handle.is_empty() {
            return Err(SqsError::MissingParameter("ReceiptHandle".into()));
        }
        self.sqs().delete_message(&q, &i.receipt_handle).await.map(|_| None)
    }

    async fn delete_message_batch(
        &self,
        i: s::DeleteMessageBatchInput,
    ) -> SqsResult<Option<s::BatchOutput<s::IdEntry>>> {
        let q = self.queue(&i.queue_url)?;
        validate_batch_ids(i.entries.iter().map(|e| e.id.as_str()), "DeleteMessageBatchRequestEntry")?;
        let entries = i.entries.into_iter().map(|e| (e.id, e.receipt_handle)).collect();
        Ok(Some(batch_output(self.sqs().delete_batch(&q, entries).await?)))
    }

    async fn change_message_visibility(&self, i: s::ChangeMessageVisibilityInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        let timeout = i.visibility_timeout.ok_or_else(|| SqsError::MissingParameter("VisibilityTimeout".into()))?;
        self.sqs().change_visibility(&q, &i.receipt_handle, timeout).await.map(|_| None)
    }

    async fn change_message_visibility_batch(
        &self,
        i: s::ChangeMessageVisibilityBatchInput,
    ) -> SqsResult<Option<s::BatchOutput<s::IdEntry>>> {
        let q = self.queue(&i.queue_url)?;
        validate_batch_ids(i.entries.iter().map(|e| e.id.as_str()), "ChangeMessageVisibilityBatchRequestEntry")?;
        let entries =
            i.entries.into_iter().map(|e| (e.id, e.receipt_handle, e.visibility_timeout.unwrap_or(0))).collect();
        Ok(Some(batch_output(self.sqs().change_visibility_batch(&q, entries).await?)))
    }

    async fn tag_queue(&self, i: s::TagQueueInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        self.sqs().tag(&q, i.tags).await.map(|_| None)
    }

    async fn untag_queue(&self, i: s::UntagQueueInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        self.sqs().untag(&q, &i.tag_keys).await.map(|_| None)
    }

    async fn list_queue_tags(&self, i: s::QueueUrlInput) -> SqsResult<Option<s::TagsOutput>> {
        let q = self.queue(&i.queue_url)?;
        Ok(Some(s::TagsOutput { tags: self.sqs().tags(&q)? }))
    }

    async fn add_permission(&self, i: s::AddPermissionInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        self.sqs().add_permission(&q, &i.label, &i.aws_account_ids, &i.actions).await.map(|_| None)
    }

    async fn remove_permission(&self, i: s::RemovePermissionInput) -> SqsResult<Empty> {
        let q = self.queue(&i.queue_url)?;
        self.sqs().remove_permission(&q, &i.label).await.map(|_| None)
    }

    async fn list_dead_letter_source_queues(
        &self,
        i: s::ListDeadLetterSourceQueuesInput,
    ) -> SqsResult<Option<s::ListDeadLetterSourceQueuesOutput>> {
        let q = self.queue(&i.queue_url)?;
        let page = self.sqs().dead_letter_sources_page(&q, i.max_results, i.next_token.as_deref())?;
        Ok(Some(s::ListDeadLetterSourceQueuesOutput {
            queue_urls: page.items.iter().map(|q| self.url_of(q)).collect(),
            next_token: page.next_token,
        }))
    }

    async fn start_message_move_task(
        &self,
        i: s::StartMessageMoveTaskInput,
    ) -> SqsResult<Option<s::StartMessageMoveTaskOutput>> {
        if i.source_arn.is_empty() {
            return Err(SqsError::MissingParameter("SourceArn".into()));
        }
        let handle =
            self.sqs().start_move_task(&i.source_arn, i.destination_arn, i.max_number_of_messages_per_second).await?;
        Ok(Some(s::StartMessageMoveTaskOutput { task_handle: handle }))
    }

    async fn cancel_message_move_task(
        &self,
        i: s::CancelMessageMoveTaskInput,
    ) -> SqsResult<Option<s::CancelMessageMoveTaskOutput>> {
        let moved = self.sqs().cancel_move_task(&i.task_handle).await?;
        Ok(Some(s::CancelMessageMoveTaskOutput { approximate_number_of_messages_moved: moved }))
    }

    async fn list_message_move_tasks(
        &self,
        i: s::ListMessageMoveTasksInput,
    ) -> SqsResult<Option<s::ListMessageMoveTasksOutput>> {
        let tasks = self.sqs().list_move_tasks(&i.source_arn, i.max_results)?;
        let results = tasks
            .into_iter()
            .map(|t| s::MoveTaskEntry {
                task_handle: (t.status == "RUNNING").then_some(t.handle),
                status: t.status,
                source_arn: t.source_arn,
                destination_arn: t.destination_arn,
                max_number_of_messages_per_second: t.max_per_second,
                approximate_number_of_messages_moved: t.moved,
                approximate_number_of_messages_to_move: t.to_move,
                failure_reason: t.failure_reason,
                started_timestamp: t.started_ms,
            })
            .collect();
        Ok(Some(s::ListMessageMoveTasksOutput { results }))
    }
}

fn failed_entry(id: String, e: &SqsError) -> s::BatchResultErrorEntry {
    let w = errors::wire(e);
    s::BatchResultErrorEntry { id, sender_fault: w.sender, code: w.code.to_string(), message: w.message }
}

fn batch_output(results: Vec<(String, SqsResult<()>)>) -> s::BatchOutput<s::IdEntry> {
    let mut out = s::BatchOutput { successful: Vec::new(), failed: Vec::new() };
    for (id, r) in results {
        match r {
            Ok(()) => out.successful.push(s::IdEntry { id }),
            Err(e) => out.failed.push(failed_entry(id, &e)),
        }
    }
    out
}
