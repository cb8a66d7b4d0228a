"""The OpenAI composer: a language model writes the plan, our rules judge it, the rules step in.

One structured-output call (the JSON schema of `llm_answer.AdPlanAnswer`, temperature
0.2 + 0.6 × creativity). The official SDK retries 429 and 5xx itself, honouring Retry-After, up to
`max_retries`; every attempt has its own timeout. A usable answer is repaired where it can be and
must pass `spec_rules.check`; a refusal, malformed or invalid answer, timeout or HTTP failure gives
the rule-based plan instead, with the reason in its notes and in `Spec.planner`. Tokens used are
reported whatever happened to the answer, since they are billed either way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import openai
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from adgen_planner.composer import PlanRequest, compose, plan_duration, validate
from adgen_planner.llm_answer import AdPlanAnswer, library_brief, response_format, to_plan
from adgen_planner.plan import Plan
from adgen_planner.prompt_reading import read_prompt
from adgen_planner.prompt_safety import SYSTEM_PROMPT, user_message
from adgen_planner.spec_rules import InvalidPlan, check, creativity_to_temperature
from adgen_providers.provider_calls import ProviderCall, provider_call

RULES = "rules"
# A plan is a few hundred tokens of JSON; the cap bounds the cost of a runaway answer.
MAX_ANSWER_TOKENS = 2000


@dataclass(frozen=True)
class TokenPrices:
    """US dollars per million tokens, which is also micro-dollars per token."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float


@dataclass(frozen=True)
class Usage:
    model: str
    input_tokens: int
    output_tokens: int
    usd_micros: int

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Composed:
    """A checked plan, who made it ("rules", "openai gpt-4o-mini" or "rules (openai fallback: …)")
    and the tokens it cost (None when no model answered)."""

    plan: Plan
    planner: str
    usage: Usage | None = None


def compose_with_rules(request: PlanRequest) -> Composed:
    return Composed(check(compose(request)), RULES)


def usage_of(completion: ChatCompletion, prices: TokenPrices) -> Usage | None:
    if completion.usage is None:
        return None
    tokens_in, tokens_out = completion.usage.prompt_tokens, completion.usage.completion_tokens
    micros = round(tokens_in * prices.input_usd_per_mtok + tokens_out * prices.output_usd_per_mtok)
    return Usage(completion.model or "", tokens_in, tokens_out, micros)


def _attempts_of(error: openai.APIError) -> int:
    """Which attempt of the SDK's failed last (it numbers its retries in a request header)."""
    request = getattr(error, "request", None)
    retried = request.headers.get("x-stainless-retry-count", "0") if request is not None else "0"
    return int(retried) + 1 if retried.isdigit() else 1


def _trace_usage(call: ProviderCall, usage: Usage | None) -> None:
    if usage is not None:
        call.billed(usage.usd_micros)
        call.span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        call.span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)


def _http_reason(error: openai.APIStatusError) -> str:
    if error.status_code == 429:
        return "rate limited (HTTP 429)"
    return f"HTTP {error.status_code}"


class OpenAiComposer:
    def __init__(self, client: openai.AsyncOpenAI, model: str, prices: TokenPrices) -> None:
        self._client = client
        self._model = model
        self._prices = prices

    async def close(self) -> None:
        await self._client.close()

    def request_body(self, request: PlanRequest, duration_s: int) -> dict:
        """The chat-completion arguments for `request` (the prompt as delimited data)."""
        return {
            "model": self._model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {
                    "role": "user",
                    "content": user_message(request.prompt, library_brief(duration_s, len(request.asset_ids))),
                },
            ],
            "temperature": creativity_to_temperature(request.creativity),
            "response_format": response_format(),
            "max_completion_tokens": MAX_ANSWER_TOKENS,
            "seed": request.seed,
        }

    async def compose(self, request: PlanRequest) -> Composed:
        validate(request)
        reading = read_prompt(request.prompt)
        duration = plan_duration(request.duration_s, reading.duration_s, [])
        try:
            # One span for the call: the SDK retries inside it, and says how many attempts it took.
            with provider_call("openai", self._model, "chat") as call:
                call.span.set_attribute("gen_ai.operation.name", "chat")
                try:
                    raw = await self._client.chat.completions.with_raw_response.create(
                        **self.request_body(request, duration)
                    )
                except openai.APIError as error:
                    call.attempted(_attempts_of(error))
                    raise
                call.attempted(raw.retries_taken + 1)
                completion = raw.parse()
                usage = usage_of(completion, self._prices)
                _trace_usage(call, usage)
        except openai.APITimeoutError:
            return self._fallback(request, "timeout", None)
        except openai.APIStatusError as error:
            return self._fallback(request, _http_reason(error), None)
        except openai.APIConnectionError:
            return self._fallback(request, "connection failed", None)
        except (openai.OpenAIError, ValueError) as error:
            return self._fallback(request, f"unreadable response ({type(error).__name__})", None)
        if not completion.choices:
            return self._fallback(request, "no answer", usage)
        choice = completion.choices[0]
        if choice.message.refusal:
            return self._fallback(request, f"refusal: {choice.message.refusal[:120]}", usage)
        if choice.finish_reason == "length":
            return self._fallback(request, "answer cut off at the token limit", usage)
        try:
            answer = AdPlanAnswer.model_validate_json(choice.message.content or "")
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            return self._fallback(request, f"malformed answer ({where}: {first['msg']})", usage)
        repaired = to_plan(answer, request, reading)
        try:
            plan = check(repaired.plan)
        except InvalidPlan as error:
            return self._fallback(request, "invalid plan: " + "; ".join(error.violations[:3]), usage)
        return Composed(plan, f"openai {self._model}", usage)

    def _fallback(self, request: PlanRequest, reason: str, usage: Usage | None) -> Composed:
        plan = check(compose(request))
        plan = dataclasses.replace(plan, notes=(*plan.notes, f"openai fallback: {reason}"))
        return Composed(plan, f"{RULES} (openai fallback: {reason})", usage)
