using System.Management.Automation;
using VirtTools.Diagnostics;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>
/// -Address as every PCI cmdlet takes it: wildcards, the short "05:06.0" form, and a literal address that
/// matches nothing reported as PciDeviceNotFound (or PciAddressInvalid) with the input as target.
/// </summary>
internal sealed class PciAddressSelection
{
    private readonly string[] _inputs;
    private readonly Wildcards _patterns;

    public PciAddressSelection(string[]? inputs)
    {
        _inputs = inputs ?? Array.Empty<string>();
        _patterns = new Wildcards(_inputs.Select(PciAddress.NormalizePattern));
    }

    public bool IsEmpty => _inputs.Length == 0;

    public bool Matches(PciDevice device) => _patterns.Matches(device.Address.ToString());

    /// <summary>The devices the inputs select, reporting each literal input that selects nothing.</summary>
    public IEnumerable<PciDevice> Select(IEnumerable<PciDevice> candidates, Action<VirtToolsException, string> reportMissing)
    {
        var devices = candidates.Where(Matches).ToList();
        foreach (var literal in Wildcards.Literals(_inputs))
        {
            if (!PciAddress.TryParse(literal, out var address)) reportMissing(PciErrors.AddressInvalid(literal), literal);
            else if (devices.All(d => d.Address != address)) reportMissing(PciErrors.DeviceNotFound(literal), literal);
        }
        return devices;
    }
}
