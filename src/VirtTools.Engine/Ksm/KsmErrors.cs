namespace VirtTools.Ksm;

/// <summary>The ErrorIds of the KSM readers and Set-KsmConfig, in one place (documented in about_VirtTools_Errors).</summary>
public static class KsmErrors
{
    public const string NotAvailableId = "KsmNotAvailable";
    public const string PagesSharedId = "KsmPagesShared";
    public const string ValueRejectedId = "KsmValueRejected";
    public const string InvalidValueId = "KsmInvalidValue";
    public const string SettingNotSupportedId = "KsmSettingNotSupported";
    public const string ProcessNotFoundId = "ProcessNotFound";
}
