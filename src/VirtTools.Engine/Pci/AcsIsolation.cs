using System.Globalization;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// Access Control Services on the bridges between a function and the root complex (extended capability 0x0D):
/// without Source Validation, P2P Request/Completion Redirect and Upstream Forwarding a bridge lets functions below
/// it reach each other without the IOMMU, so the kernel puts them in one group. pcie_acs_override on the command line
/// makes the kernel pretend otherwise: the groups it shows are then not real isolation.
/// </summary>
public static class AcsIsolation
{
    public const string Check = "Acs";
    private const int AcsCapabilityId = 0x0D, CapabilityOffset = 0x04, ControlOffset = 0x06;
    private const int SourceValidation = 0x01, RequestRedirect = 0x04, CompletionRedirect = 0x08, UpstreamForwarding = 0x10;
    private const int Required = SourceValidation | RequestRedirect | CompletionRedirect | UpstreamForwarding;

    public static PciReadinessFinding Judge(SystemRoot root, PciDevice device)
    {
        var evidence = new List<string>();
        var results = new List<PciReadinessResult>();
        if ((root.ReadText("/proc/cmdline") ?? "").Split(' ', '\n').FirstOrDefault(o => o.StartsWith("pcie_acs_override", StringComparison.Ordinal)) is { } hack)
        {
            evidence.Add($"/proc/cmdline: {hack}");
            results.Add(PciReadinessResult.Warn);
        }
        var bridges = UpstreamBridges(device.SysfsPath).ToList();
        if (bridges.Count == 0)
            evidence.Add($"{device.SysfsPath}: on a root bus, no bridge above it");
        foreach (var bridge in bridges)
        {
            var (result, said) = JudgeBridge(root, bridge);
            evidence.Add(said);
            results.Add(result);
        }
        var worst = results.Count == 0 ? PciReadinessResult.Pass
            : results.Contains(PciReadinessResult.Warn) ? PciReadinessResult.Warn
            : results.Contains(PciReadinessResult.Unknown) ? PciReadinessResult.Unknown
            : PciReadinessResult.Pass;
        var reason = worst switch
        {
            PciReadinessResult.Pass => "Every bridge above the function isolates it (or there is none): its IOMMU group is real isolation.",
            PciReadinessResult.Unknown => "A bridge's extended config space could not be read (without CAP_SYS_ADMIN the kernel gives 64 bytes): run as root to see ACS.",
            _ => "A bridge above the function does not isolate it (or pcie_acs_override makes the kernel pretend it does): functions behind it can reach each other without the IOMMU.",
        };
        return new(Check, worst, string.Join("; ", evidence), reason);
    }

    /// <summary>The PCI addresses in the device's sysfs path above it ("/sys/devices/pci0000:00/0000:00:1c.0/0000:03:00.0" → 0000:00:1c.0).</summary>
    private static IEnumerable<string> UpstreamBridges(string? sysfsPath)
    {
        var parts = (sysfsPath ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var above = new List<string>();
        for (int i = 0; i < parts.Length - 1; i++)
            if (PciAddress.TryParseKernelName(parts[i], out _)) above.Add("/" + string.Join('/', parts[..(i + 1)]));
        return above.AsEnumerable().Reverse();
    }

    private static (PciReadinessResult, string) JudgeBridge(SystemRoot root, string bridgePath)
    {
        var configPath = bridgePath + "/config";
        var config = PciConfigSpace.ReadWithExtendedCapabilities(root.Resolve(configPath));
        if (config is null) return (PciReadinessResult.Unknown, $"{configPath}: missing");
        switch (config.FindExtendedCapability(AcsCapabilityId))
        {
            case null:
                return (PciReadinessResult.Unknown, $"{configPath}: {config.ReadableLength} of {config.FileLength} bytes readable, ACS not visible");
            case < 0:
                return (PciReadinessResult.Warn, $"{configPath}: no ACS capability");
            case int acs:
                var capability = config.Word(acs + CapabilityOffset) ?? 0;
                var control = config.Word(acs + ControlOffset) ?? 0;
                // As the kernel's pci_acs_enabled: a feature the bridge lacks cannot be asked of it.
                var needed = Required & capability;
                var said = string.Create(CultureInfo.InvariantCulture,
                    $"{configPath}: ACS at 0x{acs:x3}, capability 0x{capability:x4}, control 0x{control:x4} ({Flags(control)})");
                return ((control & needed) == needed ? PciReadinessResult.Pass : PciReadinessResult.Warn, said);
        }
    }

    private static string Flags(int control)
    {
        var names = new[] { (SourceValidation, "SV"), (RequestRedirect, "RR"), (CompletionRedirect, "CR"), (UpstreamForwarding, "UF") }
            .Where(f => (control & f.Item1) != 0).Select(f => f.Item2).ToList();
        return names.Count == 0 ? "none enabled" : string.Join(' ', names);
    }
}
