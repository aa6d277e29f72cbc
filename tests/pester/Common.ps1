# Shared by the Pester files: where the module under test and the captured kernel tree are. Dot-source it in BeforeAll
# (and in BeforeDiscovery where a file needs the paths to build its cases).

# The module folder users install: out/VirtTools as `dotnet build` lays it out, never a test bin folder.
$script:ModuleManifest = if ($env:VIRTTOOLS_MODULE) { $env:VIRTTOOLS_MODULE } else { "$PSScriptRoot/../../out/VirtTools/VirtTools.psd1" }

# The sysfs/procfs tree captured from a real Debian 6.1 kernel in the QEMU lab.
$script:FixtureArchive = if ($env:VIRTTOOLS_FIXTURE_ARCHIVE) { $env:VIRTTOOLS_FIXTURE_ARCHIVE } else {
    @("$PSScriptRoot/../fixtures/qemu-debian-6.1-usbip-vfio.tgz", "$PSScriptRoot/../../../shared/fixtures/qemu-debian-6.1-usbip-vfio.tgz") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}

# A private, writable copy of the captured tree, as the path of a new temporary folder; Remove-FixtureCopy deletes it.
# Not under $TestDrive: Pester clears a TestDrive between blocks with a .NET enumeration that follows directory
# symlinks, and a sysfs tree is full of symlink loops (bus/pci/devices/X/subsystem -> bus/pci), so it never ends.
function New-FixtureCopy {
    $folder = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "virttools-pester-$([guid]::NewGuid())")).FullName
    tar -xzf $script:FixtureArchive -C $folder
    if ($LASTEXITCODE -ne 0) { throw "tar could not extract $script:FixtureArchive into $folder" }
    $folder
}

# Deletes a tree New-FixtureCopy made, without following its symlinks.
function Remove-FixtureCopy([string] $Path) {
    if ($Path -and [IO.Directory]::Exists($Path)) { [IO.Directory]::Delete($Path, $true) }
}
