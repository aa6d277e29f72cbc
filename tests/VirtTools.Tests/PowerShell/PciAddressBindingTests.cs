using System.Management.Automation;
using VirtTools.Pci;
using VirtTools.Tests.Support;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.PowerShell;

/// <summary>
/// -Address of Set-, Remove- and Test-PciPassthrough is a PciAddress: it binds from text (short or full), from a piped
/// function, and from a deserialized one (remoting sends the address as its text); a bad text is a binding error.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class PciAddressBindingTests : IDisposable
{
    private readonly PowerShellHarness _ps = new();
    private readonly Double _kernel = Double.OnCapturedFixture();

    private Dictionary<string, object?> Root => new() { ["root"] = _kernel.RootPath };

    [Theory]
    [InlineData("Set-PciPassthrough -Root $root '05:06' -WhatIf")]
    [InlineData("Remove-PciPassthrough -Root $root 'not-an-address' -WhatIf")]
    [InlineData("Test-PciPassthrough -Root $root '0000:00:2.0'")]
    public void A_text_that_is_no_pci_address_is_a_parameter_binding_error_naming_it(string command)
    {
        var result = _ps.Run("param($root) " + command, Root);
        var failure = result.Terminating?.ErrorRecord ?? Assert.Single(result.Errors);
        Assert.IsAssignableFrom<ParameterBindingException>(failure.Exception);
        var text = command.Split('\'')[1];
        Assert.Contains(text, failure.Exception.Message);
        Assert.Contains("is not a PCI address", failure.Exception.Message);
        Assert.Empty(_kernel.Writes);
    }

    [Theory]
    [InlineData("'00:02.0'")]
    [InlineData("'0000:00:02.0'")]
    public void The_short_and_the_full_text_bind_to_the_same_function(string text)
    {
        var readiness = _ps.Ok<PciPassthroughReadiness>($"param($root) Test-PciPassthrough -Root $root {text}", Root);
        Assert.Equal(new PciAddress(0, 0, 2, 0), Assert.Single(readiness).Address);
    }

    [Fact]
    public void A_piped_text_binds_by_value()
    {
        var devices = _ps.Ok<PciDevice>("param($root) '00:02.0' | Set-PciPassthrough -Root $root -WhatIf", Root);
        Assert.Equal("0000:00:02.0", Assert.Single(devices).Address.ToString());
    }

    [Fact]
    public void A_piped_Get_PciDevice_binds_by_its_Address()
    {
        var readiness = _ps.Ok<PciPassthroughReadiness>("param($root) Get-PciDevice -Root $root 00:1f.* | Test-PciPassthrough", Root);
        Assert.Equal(new[] { "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" }, readiness.Select(r => r.Address.ToString()));
    }

    [Fact]
    public void A_deserialized_function_keeps_its_address_as_text_at_any_depth_and_binds_again()
    {
        var script = """
            param($root)
            $arrived = [System.Management.Automation.PSSerializer]::Deserialize(
                [System.Management.Automation.PSSerializer]::Serialize((Get-PciDevice -Root $root 00:02.0), 5))
            $arrived.Address.GetType().FullName
            $arrived.Address
            $arrived | Test-PciPassthrough -Root $root | ForEach-Object { $_.Address.ToString() }
            """;
        var output = _ps.Ok(script, Root).Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "System.String", "0000:00:02.0", "0000:00:02.0" }, output);
    }

    [Fact]
    public void Get_PciDevice_Address_keeps_its_wildcards()
    {
        var devices = _ps.Ok<PciDevice>("param($root) Get-PciDevice -Root $root -Address '00:1f.*', '*:02.0'", Root);
        Assert.Equal(new[] { "0000:00:02.0", "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3" }, devices.Select(d => d.Address.ToString()));
    }

    public void Dispose()
    {
        _ps.Dispose();
        _kernel.Dispose();
    }
}
