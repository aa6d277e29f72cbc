@{
    RootModule           = 'VirtTools.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0c1f4e-7a0b-4c57-9a55-3d8e2f1c9a11'
    Author               = 'VirtTools developers'
    CompanyName          = 'VirtTools'
    Copyright            = '(c) VirtTools developers. All rights reserved.'
    Description          = 'USB/IP, PCI passthrough (vfio), KSM and KVM/Xen host probes for Linux virtualization hosts, as objects that pipe between commands.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('VirtTools.format.ps1xml')
    TypesToProcess       = @('VirtTools.types.ps1xml')
    # Every file of the module folder; dependencies/ is loaded by ModuleInitializer into its own context.
    FileList             = @(
        'VirtTools.psd1'
        'VirtTools.dll'
        'VirtTools.Engine.dll'
        'VirtTools.format.ps1xml'
        'VirtTools.types.ps1xml'
        'dependencies/YamlDotNet.dll'
        'en-US/VirtTools.dll-Help.xml'
        'en-US/about_VirtTools.help.txt'
        'en-US/about_VirtTools_Errors.help.txt'
        'en-US/about_VirtTools_HostProfile.help.txt'
        'en-US/about_VirtTools_Testing.help.txt'
    )
    CmdletsToExport      = @(
        # USB
        'Get-UsbDevice'
        'Get-UsbIpExport'
        'Get-UsbIpPort'
        'Get-UsbIpCapacity'
        # USB/IP
        'Export-UsbIpDevice'
        'Remove-UsbIpExport'
        'Get-UsbIpDevice'
        'Start-UsbIpServer'
        'Stop-UsbIpServer'
        'Connect-UsbIpDevice'
        'Disconnect-UsbIpDevice'
        # PCI
        'Get-PciDevice'
        'Get-PciIrqShare'
        'Get-IommuGroup'
        'Test-PciPassthrough'
        # PCI passthrough
        'Set-PciPassthrough'
        'Remove-PciPassthrough'
        # KSM
        'Get-KsmStats'
        'Set-KsmConfig'
        # Host probes
        'Get-VirtHost'
        'Test-VirtHost'
        # Desired state
        'Get-VirtHostConfig'
        'Export-VirtHostConfig'
        'Test-VirtHostConfig'
        'Sync-VirtHostConfig'
        # Sandboxes for testing automation
        'Save-VirtHostSnapshot'
        'New-VirtHostSandbox'
        'Remove-VirtHostSandbox'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('Linux', 'KVM', 'Xen', 'USBIP', 'VFIO', 'PCI', 'KSM', 'Virtualization', 'PSEdition_Core')
        }
    }
}
