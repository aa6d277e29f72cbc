using VirtTools.Pci;
using VirtTools.Sysfs;

namespace VirtTools.Commands.Completion;

/// <summary>
/// Completes PCI function addresses. The word typed may omit the domain ("00:02" finds 0000:00:02.0), as the
/// cmdlets' -Address accepts the short form; the completion is always the full address.
/// </summary>
public sealed class PciAddressCompleter : VirtToolsCompleter
{
    protected override IEnumerable<CompletionCandidate> Candidates(SystemRoot root) =>
        new PciDeviceReader(root).GetDevices().Select(d => new CompletionCandidate(d.Address.ToString(), Describe(d))
        {
            AlsoMatches = new[] { d.Address.ToShortString() },
        });

    /// <summary>"8086:100e Intel 82540EM [vfio-pci]": ids, names (class name without pci.ids), driver.</summary>
    private static string Describe(PciDevice device)
    {
        var name = device.DeviceName is not null ? $"{device.VendorName} {device.DeviceName}".Trim() : device.ClassName ?? device.ClassCode;
        return CompletionCandidate.Words($"{device.VendorId}:{device.DeviceId}", name, $"[{device.Driver ?? "no driver"}]");
    }
}
