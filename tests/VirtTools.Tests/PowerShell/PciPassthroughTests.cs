using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>Set/Remove-PciPassthrough through PowerShell, on the captured tree with the kernel double behind -Root.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class PciPassthroughTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly Double _kernel = Double.OnCapturedFixture();

    private Dictionary<string, object?> Root => new() { ["root"] = _kernel.RootPath };

    [Fact]
    public void Piping_the_Ethernet_class_with_WhatIf_outputs_the_e1000_already_passed_through_and_writes_nothing()
    {
        var devices = _ps.Ok<PciDevice>("param($root) Get-PciDevice -Root $root -Class 0x0200 | Set-PciPassthrough -WhatIf", Root);
        Assert.Equal("vfio-pci", Assert.Single(devices).Driver);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void Piping_IOMMU_group_2_with_WhatIf_is_idempotent_for_its_e1000()
    {
        var devices = _ps.Ok<PciDevice>("param($root) Get-IommuGroup -Root $root 2 | Set-PciPassthrough -WhatIf", Root);
        Assert.Equal("0000:00:02.0", Assert.Single(devices).Address.ToString());
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void WhatIf_shows_each_attribute_and_modprobe_line_and_writes_nothing()
    {
        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:01.0 -Persist -WhatIf", Root, render: true);
        Assert.True(result.Succeeded, PowerShellHarness.Describe(result));
        Assert.Empty(result.Output);
        Assert.Contains("write 'vfio-pci' to /sys/bus/pci/devices/0000:00:01.0/driver_override", _ps.HostText);
        Assert.Contains("options vfio-pci ids=1b36:000d", _ps.HostText);
        Assert.Empty(_kernel.Writes);
        Assert.False(File.Exists(_kernel.Tree.Resolve(ModprobePersistence.FilePath("vfio-pci"))));
    }

    [Fact]
    public void Set_then_Remove_in_a_new_shell_moves_the_xhci_controller_there_and_back()
    {
        var set = _ps.Ok<PciDevice>("param($root) Set-PciPassthrough -Root $root 00:01.0 -Confirm:$false", Root);
        Assert.Equal("vfio-pci", Assert.Single(set).Driver);
        using var newShell = new PowerShellHarness();
        var back = newShell.Ok<PciDevice>("param($root) Remove-PciPassthrough -Root $root 0000:00:01.0 -Confirm:$false", Root);
        Assert.Equal("xhci_hcd", Assert.Single(back).Driver);
    }

    [Fact]
    public void A_refusal_is_a_non_terminating_error_with_its_ErrorId_and_the_input_as_target()
    {
        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:09.0, 00:02.0 -Confirm:$false", Root);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("PciDeviceNotFound", error.FullyQualifiedErrorId);
        Assert.Equal(PciAddress.Parse("00:09.0"), error.TargetObject); // the input, as -Address bound it
        Assert.Single(result.Output);
    }

    [Fact]
    public void A_failed_bind_reports_BindFailed_and_the_rollback()
    {
        _kernel.Pci.FailProbe("vfio-pci", VirtTools.Sysfs.KernelErrno.EINVAL);
        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:01.0 -TimeoutSec 1 -Confirm:$false", Root);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("BindFailed", error.FullyQualifiedErrorId);
        Assert.Contains("Rolled back", error.Exception.Message);
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf("0000:00:01.0"));
    }

    [Fact]
    public void A_record_that_cannot_be_written_after_the_move_puts_the_function_back_and_names_the_record_file()
    {
        // A file where the record's folder should be: the move succeeds, then creating /var/lib/virttools fails.
        Directory.CreateDirectory(_kernel.Tree.Resolve("/var/lib"));
        File.WriteAllText(_kernel.Tree.Resolve("/var/lib/virttools"), "not a folder\n");

        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:01.0 -Confirm:$false", Root);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith(PciErrors.RecordNotWrittenId + ",", error.FullyQualifiedErrorId);
        var failure = Assert.IsType<VirtTools.Diagnostics.VirtToolsException>(error.Exception);
        Assert.Equal(PassthroughStateStore.SystemPath, failure.Target);
        Assert.StartsWith($"Recording the change in {PassthroughStateStore.SystemPath} failed: ", failure.Message);
        Assert.Contains("Rolled back: 0000:00:01.0 is back on xhci_hcd with driver_override cleared.", failure.Message);
        Assert.Empty(result.Output);
        Assert.Contains(_kernel.Writes, w => w.SystemPath == "/sys/bus/pci/drivers_probe" && w.Text.Trim() == "0000:00:01.0"); // it had moved
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf("0000:00:01.0"));
        Assert.Null(_kernel.Pci.DriverOverrideOf("0000:00:01.0"));
    }

    [Fact]
    public void A_modprobe_file_that_cannot_be_written_puts_the_function_and_its_record_back()
    {
        // A file where /etc/modprobe.d should be: the record is written, then the -Persist line cannot be.
        Directory.CreateDirectory(_kernel.Tree.Resolve("/etc"));
        File.WriteAllText(_kernel.Tree.Resolve("/etc/modprobe.d"), "not a folder\n");

        var result = _ps.Run("param($root) Set-PciPassthrough -Root $root 00:01.0 -Persist -Confirm:$false", Root);

        var error = Assert.Single(result.Errors);
        Assert.StartsWith(PciErrors.RecordNotWrittenId + ",", error.FullyQualifiedErrorId);
        Assert.Contains("0000:00:01.0 is back on xhci_hcd", error.Exception.Message);
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf("0000:00:01.0"));
        Assert.Null(_kernel.Tree.Read(PassthroughStateStore.SystemPath)); // there was no record before
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
