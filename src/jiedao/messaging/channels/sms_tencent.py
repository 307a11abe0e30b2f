"""腾讯云短信 (Tencent Cloud SMS) through its official SDK: ``SendSms`` of API version 2021-01-11.

Every message names its approved template (``Outgoing.template``) and the template's parameters
in order (``Outgoing.params``); the application (SmsSdkAppId) and the signature (SignName) are
settings, and ``SessionContext`` carries the message's own key back in the answer. The number must
be a mainland mobile (+86 allowed): any other is refused without calling Tencent.

``Code`` "Ok" in ``SendStatusSet`` is accepted. ``LimitExceeded.*``, ``RequestLimitExceeded``,
``InternalError.*`` and the SDK's network errors may heal later; any other refusal
(``FailedOperation.*``, ``InvalidParameterValue.*``, ``AuthFailure.*`` …) will not
(docs/messaging.md, "渠道 Channels")."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from .base import Outgoing, Sent
from .transport import mainland_mobile, mask, scrub

#: Codes (or their prefixes, ending in ".") that may heal when tried later.
RETRY_PREFIXES = ("LimitExceeded.", "InternalError", "RequestLimitExceeded", "ResourceUnavailable.")
#: The SDK's own codes for a call that got no usable answer.
NETWORK_CODES = {"ClientNetworkError", "ServerNetworkError"}
KNOWN_CODES = {
    "FailedOperation.TemplateIncorrectOrUnapproved": gettext_lazy("短信模板未审核通过或不存在"),
    "FailedOperation.SignatureIncorrectOrUnapproved": gettext_lazy("短信签名未审核通过或不存在"),
    "FailedOperation.PhoneNumberInBlacklist": gettext_lazy("号码在免打扰名单中"),
    "FailedOperation.InsufficientBalanceInSmsPackage": gettext_lazy("短信套餐包余量不足"),
    "InvalidParameterValue.TemplateParameterFormatError": gettext_lazy("模板参数格式不对"),
    "InvalidParameterValue.TemplateParameterLengthLimit": gettext_lazy("模板参数太长"),
    "InvalidParameterValue.IncorrectPhoneNumber": gettext_lazy("手机号码格式不对"),
    "LimitExceeded.PhoneNumberDailyLimit": gettext_lazy("该号码当日短信已达上限"),
    "LimitExceeded.PhoneNumberThirtySecondLimit": gettext_lazy("该号码 30 秒内短信已达上限"),
    "AuthFailure.SecretIdNotFound": gettext_lazy("SecretId 不存在"),
    "AuthFailure.SignatureFailure": gettext_lazy("密钥不对，签名失败"),
}


def retryable(code: str) -> bool:
    return code in NETWORK_CODES or any(code == p.rstrip(".") or code.startswith(p) for p in RETRY_PREFIXES)


class TencentSmsChannel:
    name = "sms_tencent"
    label = cast(str, gettext_lazy("短信（腾讯云）"))

    def __init__(self, **overrides: object) -> None:
        """Settings from ``settings.SMS_TENCENT``; any of its keys, lower-cased, may be given
        instead (``secret_id``, ``secret_key``, ``app_id``, ``sign_name``, ``region``,
        ``endpoint``, ``timeout``)."""
        config = {k.lower(): v for k, v in getattr(settings, "SMS_TENCENT", {}).items()}
        allowed = {"secret_id", "secret_key", "app_id", "sign_name", "region", "endpoint", "timeout"}
        if set(overrides) - allowed:
            raise TypeError(f"unknown settings: {sorted(set(overrides) - allowed)}")
        config.update(overrides)
        self.secret_id = str(config.get("secret_id") or "")
        self.secret_key = str(config.get("secret_key") or "")
        self.app_id = str(config.get("app_id") or "")
        self.sign_name = str(config.get("sign_name") or "")
        self.region = str(config.get("region") or "ap-guangzhou")
        self.endpoint = str(config.get("endpoint") or "https://sms.tencentcloudapi.com")
        self.timeout = int(cast(float, config.get("timeout") or 10))

    def check(self) -> list[str]:
        problems = []
        if not self.secret_id or not self.secret_key:
            problems.append(gettext("没有填写腾讯云的 JIEDAO_SMS_TENCENT_SECRET_ID 和 JIEDAO_SMS_TENCENT_SECRET_KEY。"))
        if not self.app_id.isdigit():
            problems.append(gettext("JIEDAO_SMS_TENCENT_APP_ID（短信应用 SdkAppId）应为一串数字。"))
        if not self.sign_name:
            problems.append(gettext("没有填写短信签名 JIEDAO_SMS_TENCENT_SIGN_NAME。"))
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(gettext("JIEDAO_SMS_TENCENT_ENDPOINT 不是有效的网址（应以 http:// 或 https:// 开头）。"))
        return problems

    def _client(self) -> sms_client.SmsClient:
        parts = urlsplit(self.endpoint)
        http = HttpProfile(protocol=parts.scheme, endpoint=parts.netloc, reqMethod="POST", reqTimeout=self.timeout)
        cred = credential.Credential(self.secret_id, self.secret_key)
        return sms_client.SmsClient(cred, self.region, ClientProfile(httpProfile=http))

    def _refused(self, code: str, message: str, *, request_id: str = "") -> Sent:
        words = scrub(message, self.secret_id, self.secret_key)
        known = KNOWN_CODES.get(code)
        return Sent(
            ok=False,
            code=code,
            answer=f"{known}（{code} {words}）" if known else f"{code} {words}",
            retry=retryable(code),
            extra={"request_id": request_id} if request_id else {},
        )

    def send(self, message: Outgoing) -> Sent:
        phone = mainland_mobile(message.address)
        if not phone:
            return Sent(
                ok=False,
                code="bad_phone",
                answer=gettext("“%(phone)s”不是中国大陆手机号码（11 位，以 13～19 开头），未发送。")
                % {"phone": message.address},
            )
        if not message.template:
            return Sent(ok=False, code="no_template", answer=gettext("没有指定腾讯云短信模板编号，未发送。"))
        problems = self.check()
        if problems:
            return Sent(ok=False, code="configuration", answer=" ".join(problems))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{phone}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = message.template
        request.TemplateParamSet = list(message.params)
        request.SessionContext = message.key
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            code, words = str(exc.get_code() or ""), exc.get_message()
            if isinstance(words, bytes):
                words = words[:300].decode("utf-8", "replace")
            if code in NETWORK_CODES:
                words = gettext("腾讯云短信无法连接：%(error)s") % {"error": str(words)[:300]}
            return self._refused(code, str(words or ""), request_id=str(exc.get_request_id() or ""))
        statuses = response.SendStatusSet or []
        if not statuses:
            return Sent(
                ok=False,
                code="bad_answer",
                answer=gettext("腾讯云短信的答复中没有发送状态。"),
                extra={"request_id": response.RequestId or ""},
            )
        status = statuses[0]
        extra = {"request_id": response.RequestId or "", "fee": status.Fee, "secret_id": mask(self.secret_id)}
        if status.Code == "Ok":
            return Sent(ok=True, provider_id=status.SerialNo or "", code="Ok", answer=status.Message or "", extra=extra)
        refused = self._refused(str(status.Code or ""), str(status.Message or ""))
        return Sent(
            ok=False,
            provider_id=status.SerialNo or "",
            code=refused.code,
            answer=refused.answer,
            retry=refused.retry,
            extra=extra,
        )
