using VirtTools.Diagnostics;
using VirtTools.Pci;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>
/// Test-PciPassthrough, Get-PciIrqShare and Set-PciPassthrough judge every function of the captured tree alike: a
/// function Set-PciPassthrough refuses is one whose readiness check for that rule does not pass, and the other way
/// round; a line Get-PciIrqShare says blocks a function is that function's IrqSharing failure.
/// </summary>
public sealed class PciReadinessAgreementTests : IDisposable
{
    private readonly Double _kernel = Double.OnCapturedFixture();

    /// <summary>The readiness check that stands for each refusal of Set-PciPassthrough.</summary>
    private static readonly Dictionary<string, string> CheckOf = new(StringComparer.Ordinal)
    {
        [PciErrors.BridgeNotPassableId] = "Bridge",
        [PciErrors.IommuNotEnabledId] = "Iommu",
        [PciErrors.IommuGroupNotViableId] = "IommuGroup",
        [PciErrors.InterlockMountedFilesystemId] = "HostUse",
        [PciErrors.InterlockDefaultRouteId] = "HostUse",
        [PciErrors.InterlockBootVgaId] = "BootVga",
    };

    public static TheoryData<string> Variants() => new() { "as captured", "smbus on a host driver", "sata without a group" };

    private void Arrange(string variant)
    {
        if (variant == "smbus on a host driver") _kernel.Pci.AddDriver("i801_smbus", "8086:2930").Bind("0000:00:1f.3", "i801_smbus");
        if (variant == "sata without a group") File.Delete(_kernel.Tree.Resolve("/sys/devices/pci0000:00/0000:00:1f.2/iommu_group"));
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Set_PciPassthrough_refuses_exactly_the_functions_whose_readiness_says_so(string variant)
    {
        Arrange(variant);
        var devices = new PciDeviceReader(_kernel.Root);
        var readiness = new PciReadinessReader(devices);
        foreach (var device in devices.GetDevices())
        {
            var findings = readiness.Test(device).Findings;
            string? refusal = null;
            try { new PassthroughPlanner(devices).PlanSet(device.Address); }
            catch (VirtToolsException e) { refusal = e.ErrorId; }

            var notPassing = findings.Where(f => CheckOf.ContainsValue(f.Check) && f.Result != PciReadinessResult.Pass).ToList();
            if (refusal is null)
                Assert.True(notPassing.Count == 0, $"{variant}: {device.Address} is planned, but {string.Join(", ", notPassing)}");
            else
                Assert.Contains(notPassing, f => f.Check == CheckOf[refusal]);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void IrqSharing_fails_exactly_for_the_functions_Get_PciIrqShare_says_are_blocked(string variant)
    {
        Arrange(variant);
        var devices = new PciDeviceReader(_kernel.Root);
        var blocked = PciIrqShareReader.Group(devices.GetDevices(), _kernel.Root).SelectMany(l => l.BlockedAddress).ToHashSet();
        var readiness = new PciReadinessReader(devices);
        foreach (var device in devices.GetDevices())
        {
            var sharing = Assert.Single(readiness.Test(device).Findings, f => f.Check == "IrqSharing");
            Assert.Equal(blocked.Contains(device.Address), sharing.Result == PciReadinessResult.Fail);
        }
    }

    public void Dispose() => _kernel.Dispose();
}
