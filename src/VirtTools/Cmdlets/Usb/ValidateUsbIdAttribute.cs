using System.Management.Automation;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Usb;

/// <summary>Accepts vendor and product ids as people type them ("046D", "0x46d", "46f4") and rejects anything else at binding.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidateUsbIdAttribute : ValidateEnumeratedArgumentsAttribute
{
    protected override void ValidateElement(object element)
    {
        if (SysfsText.NormalizeId(element?.ToString()) is null)
            throw new ValidationMetadataException($"'{element}' is not a USB id: give four hex digits, such as 046d or 0x046D.");
    }

    /// <summary>The ids in the form UsbDevice carries them; null when no filter was given.</summary>
    public static HashSet<string>? Normalize(string[]? ids) =>
        ids is { Length: > 0 } ? ids.Select(id => SysfsText.NormalizeId(id)!).ToHashSet(StringComparer.Ordinal) : null;
}
