using VirtTools.Pci;
using VirtTools.Sysfs;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>
/// Test-PciPassthrough against this machine's kernel, whatever functions it has: every finding is compared with the
/// same files read here independently. Nothing is asserted about what this machine has. Read-only.
/// </summary>
public sealed class PciReadinessLiveTests
{
    private static IEnumerable<(PciDevice Device, PciPassthroughReadiness Readiness)> Live()
    {
        var devices = new PciDeviceReader(SystemRoot.Live);
        var readiness = new PciReadinessReader(devices);
        return devices.GetDevices().Select(d => (d, readiness.Test(d))).ToList();
    }

    private static PciReadinessFinding Finding(PciPassthroughReadiness readiness, string check) => Assert.Single(readiness.Findings, f => f.Check == check);

    private static string? Read(string path) => File.Exists(path) ? File.ReadAllText(path).TrimEnd('\n') : null;

    [Fact]
    public void The_IOMMU_check_passes_exactly_when_the_function_has_an_iommu_group_link()
    {
        foreach (var (device, readiness) in Live())
        {
            bool linked = new FileInfo($"/sys/bus/pci/devices/{device.Address}/iommu_group").LinkTarget is not null;
            Assert.Equal(linked, Finding(readiness, "Iommu").Result == PciReadinessResult.Pass);
        }
    }

    [Fact]
    public void The_reset_check_quotes_reset_method_as_the_file_holds_it()
    {
        foreach (var (device, readiness) in Live())
        {
            var methods = Read($"/sys/bus/pci/devices/{device.Address}/reset_method");
            var evidence = Finding(readiness, "Reset").Evidence;
            Assert.StartsWith(methods is null ? $"{device.SysfsPath}/reset_method: missing" : $"{device.SysfsPath}/reset_method: {(methods.Length == 0 ? "empty" : methods)}", evidence);
        }
    }

    [Fact]
    public void The_bridge_check_quotes_the_class_file()
    {
        foreach (var (device, readiness) in Live())
            Assert.StartsWith($"{device.SysfsPath}/class: {Read($"/sys/bus/pci/devices/{device.Address}/class")}", Finding(readiness, "Bridge").Evidence);
    }

    [Fact]
    public void The_reserved_regions_check_quotes_the_group_s_file_or_says_it_is_missing()
    {
        foreach (var (device, readiness) in Live())
        {
            if (device.IommuGroup is not int group) continue;
            var path = $"/sys/kernel/iommu_groups/{group}/reserved_regions";
            var evidence = Finding(readiness, "ReservedRegions").Evidence;
            Assert.StartsWith(File.Exists(path) ? path + ": " : path + ": missing", evidence);
        }
    }

    [Fact]
    public void The_verdict_follows_from_the_findings()
    {
        foreach (var (_, readiness) in Live())
            Assert.Equal(PciPassthroughReadiness.VerdictOf(readiness.Findings), readiness.Verdict);
    }
}
