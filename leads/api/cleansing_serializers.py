"""Shapes of the cleansing-rule endpoints: blacklist entries, the tenant's sensitive words, the
policy, and the report of a file import."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from leads.api.serializers import StrictCharField
from leads.cleansing import BLACKLIST_KINDS, blacklist_reason
from leads.cleansing_selectors import SENSITIVE_TAG
from leads.models import (
    BlacklistEntry,
    BlacklistKind,
    CleansingPolicy,
    SensitiveAction,
    SensitiveWord,
    SensitiveWordCategory,
)

KINDS_TEXT = ", ".join(BLACKLIST_KINDS)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: DRF's BooleanField would take 0, "yes" or "off" from JSON."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
CATEGORIES_TEXT = ", ".join(SensitiveWordCategory.values)


def _kind_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=BlacklistKind.choices,
        error_messages={"invalid_choice": f"Unknown kind '{{input}}'. Use one of: {KINDS_TEXT}."},
        **kwargs,
    )


def _category_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=SensitiveWordCategory.choices,
        error_messages={"invalid_choice": f"Unknown category '{{input}}'. Use one of: {CATEGORIES_TEXT}."},
        **kwargs,
    )


class BlacklistEntryOutputSerializer(serializers.ModelSerializer[BlacklistEntry]):
    value = serializers.CharField(
        help_text="The entry as it is matched: a phone in E.164, an e-mail or a domain in lower case, a company as "
        "written, a keyword normalised (half-width, lower case, Simplified Chinese)."
    )
    original = serializers.CharField(help_text="The entry as it was typed or read from the file.")
    reason = serializers.SerializerMethodField(help_text="The quarantine reason code a hit gives, e.g. `blacklist.phone`.")

    class Meta:
        model = BlacklistEntry
        fields = ["id", "kind", "value", "original", "note", "reason", "created_by", "created_at"]
        read_only_fields = fields

    def get_reason(self, entry: BlacklistEntry) -> str:
        return blacklist_reason(entry.kind)


class BlacklistEntryCreateInputSerializer(serializers.Serializer[Any]):
    kind = _kind_field(help_text=f"What the entry is: {KINDS_TEXT}.")
    value = StrictCharField(
        max_length=300,
        error_messages={"blank": "Give the phone number, e-mail address, domain, company or keyword to block."},
        help_text="A mobile or landline (any common format), an e-mail address, a domain (`spam.cn` also blocks "
        "its subdomains), a company name (matched after normalisation), or a keyword (matched in every text field).",
    )
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="", help_text="Why it is blocked.")


class BlacklistListQuerySerializer(serializers.Serializer[Any]):
    kind = _kind_field(required=False)
    q = StrictCharField(max_length=100, required=False, allow_blank=True)


class SensitiveWordOutputSerializer(serializers.ModelSerializer[SensitiveWord]):
    word = serializers.CharField(help_text="The word as it is matched (half-width, lower case, Simplified Chinese).")
    original = serializers.CharField(help_text="The word as it was typed or read from the file.")

    class Meta:
        model = SensitiveWord
        fields = ["id", "word", "original", "category", "created_by", "created_at"]
        read_only_fields = fields


class SensitiveWordCreateInputSerializer(serializers.Serializer[Any]):
    word = StrictCharField(
        max_length=100, error_messages={"blank": "Give the word to block."},
        help_text="Two characters or letters at least. Chinese words match inside longer text; Latin words match "
        "whole words only.",
    )
    category = _category_field(
        required=False, default=SensitiveWordCategory.CUSTOM,
        help_text="`custom` (the default), one of the built-in categories, or `allow`: an exception that stops the "
        "listed words inside it from matching (a product name that contains a listed word).",
    )


class SensitiveWordListQuerySerializer(serializers.Serializer[Any]):
    category = _category_field(required=False)
    q = StrictCharField(max_length=100, required=False, allow_blank=True)


class CleansingPolicyOutputSerializer(serializers.ModelSerializer[CleansingPolicy]):
    version = serializers.IntegerField(help_text="Goes up with every change to the blacklist, the words or this policy.")
    flag_tag = serializers.SerializerMethodField(help_text="The tag a lead gets when `sensitive_action` is `flag`.")
    updated_at = serializers.DateTimeField(
        allow_null=True, help_text="When it last changed; null while a tenant made before these settings has the defaults."
    )

    class Meta:
        model = CleansingPolicy
        fields = ["sensitive_action", "use_builtin_words", "flag_tag", "version", "updated_at"]
        read_only_fields = fields

    def get_flag_tag(self, policy: CleansingPolicy) -> str:
        return SENSITIVE_TAG


class CleansingPolicyUpdateInputSerializer(serializers.Serializer[Any]):
    sensitive_action = serializers.ChoiceField(
        choices=SensitiveAction.choices, required=False,
        help_text="`quarantine` (the default): a submission with a sensitive word is held in quarantine with the "
        "reason `sensitive_word`. `flag`: it becomes a lead with the tag given in `flag_tag`.",
    )
    use_builtin_words = StrictBooleanField(
        required=False, help_text="Whether the built-in lexicon is matched besides the tenant's own words."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send at least one of: sensitive_action, use_builtin_words."]}
            )
        return attrs


class ListImportInputSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="A text file (CSV or TXT, UTF-8 with or without BOM, UTF-16, or GBK), one entry a line."
    )
    skip_invalid = serializers.BooleanField(
        required=False, default=False,
        help_text="false (the default): a file with any line that cannot be used is refused whole and nothing is "
        "added. true: the good lines are added and the others reported.",
    )


class BlacklistImportInputSerializer(ListImportInputSerializer):
    kind = _kind_field(
        required=False,
        help_text="The kind of the lines that do not say theirs. Lines may be `kind,value` (kinds in English or by "
        "their Chinese names); without a kind, phones, e-mails and domains are recognised.",
    )
    note = StrictCharField(max_length=200, required=False, allow_blank=True, default="", help_text="Given to every entry added.")


class SensitiveWordImportInputSerializer(ListImportInputSerializer):
    category = _category_field(
        required=False, default=SensitiveWordCategory.CUSTOM,
        help_text="The category of the lines that do not say theirs (lines may be `category,word`).",
    )


class ImportLineErrorSerializer(serializers.Serializer[Any]):
    line = serializers.IntegerField(help_text="Line number in the file, from 1.")
    text = serializers.CharField(help_text="The line as read (shortened).")
    message = serializers.CharField(help_text="Why it was refused, and what to fix.")


class ListImportOutputSerializer(serializers.Serializer[Any]):
    added = serializers.IntegerField(help_text="Entries added.")
    duplicates = serializers.IntegerField(help_text="Lines already in the list, or repeated in the file: skipped.")
    refused_count = serializers.IntegerField(help_text="Lines refused (listed in `refused`); only with skip_invalid.")
    refused = ImportLineErrorSerializer(many=True)
    encoding = serializers.CharField(help_text="How the file was read: utf-8, utf-8-sig, utf-16 or gb18030.")
